//! English-looking text of any size from a seed: a stand-in for a book (the lecture
//! compresses *Huckleberry Finn*) that needs no download and is the same on every machine.
//! Words follow a Zipf-like law, as in real prose: a few very common, many rare.

use crate::Rng;

const WORDS: &[&str] = &[
    "the",
    "and",
    "of",
    "to",
    "a",
    "in",
    "was",
    "he",
    "it",
    "that",
    "i",
    "you",
    "his",
    "for",
    "on",
    "with",
    "as",
    "had",
    "but",
    "at",
    "by",
    "not",
    "she",
    "be",
    "they",
    "so",
    "all",
    "what",
    "there",
    "we",
    "said",
    "one",
    "up",
    "out",
    "would",
    "her",
    "them",
    "him",
    "then",
    "about",
    "down",
    "could",
    "when",
    "no",
    "if",
    "river",
    "raft",
    "night",
    "water",
    "town",
    "time",
    "went",
    "come",
    "got",
    "see",
    "way",
    "along",
    "old",
    "man",
    "good",
    "well",
    "over",
    "into",
    "back",
    "never",
    "little",
    "know",
    "around",
    "just",
    "long",
    "day",
    "shore",
    "island",
    "canoe",
    "woods",
    "house",
    "widow",
    "judge",
    "money",
    "camp",
    "fire",
    "fog",
    "current",
    "steamboat",
    "morning",
    "dark",
    "quiet",
    "mighty",
    "lonesome",
    "reckon",
    "drifting",
    "storm",
    "lantern",
    "cabin",
    "fishing",
    "line",
    "catfish",
    "sky",
    "stars",
    "moon",
    "trouble",
    "king",
    "duke",
    "circus",
    "village",
    "church",
    "sermon",
    "doctor",
    "letter",
    "window",
    "ladder",
    "chain",
    "freedom",
    "journey",
    "bank",
    "sandbar",
    "willow",
    "cottonwood",
    "thunder",
    "lightning",
    "breakfast",
    "supper",
    "bacon",
    "cornbread",
    "coffee",
    "pipe",
    "smoke",
    "whistle",
    "bell",
];

const PUNCTUATION: [&str; 4] = [".", ".", "?", "!"];

/// About `bytes` bytes of text (never more), in sentences and paragraphs, fixed by `seed`.
pub fn generate(seed: u64, bytes: usize) -> String {
    let mut rng = Rng::new(seed);
    let mut text = String::with_capacity(bytes + 64);
    let mut sentence = String::new();
    let mut sentences_in_paragraph = 0;
    while text.len() < bytes {
        sentence.clear();
        let words = rng.between(4, 18);
        for i in 0..words {
            let word = zipf_word(&mut rng);
            if i == 0 {
                let mut letters = word.chars();
                if let Some(first) = letters.next() {
                    sentence.extend(first.to_uppercase());
                    sentence.push_str(letters.as_str());
                }
            } else {
                sentence.push(if rng.chance(0.08) { ',' } else { ' ' });
                if sentence.ends_with(',') {
                    sentence.push(' ');
                }
                sentence.push_str(word);
            }
        }
        sentence.push_str(rng.pick(&PUNCTUATION).copied().unwrap_or("."));
        sentences_in_paragraph += 1;
        let end = if sentences_in_paragraph >= rng.between(3, 7) {
            sentences_in_paragraph = 0;
            "\n\n"
        } else {
            " "
        };
        if text.len() + sentence.len() + end.len() > bytes {
            break;
        }
        text.push_str(&sentence);
        text.push_str(end);
    }
    text
}

/// A word whose rank r is drawn with probability about 1 / r (Zipf's law).
fn zipf_word(rng: &mut Rng) -> &'static str {
    // Inverse transform of a continuous 1/r density over 1..=n: r = n^u.
    let n = WORDS.len() as f64;
    let rank = n.powf(rng.unit()) as usize;
    WORDS[rank.clamp(1, WORDS.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_deterministic_and_sized() {
        let a = generate(9, 50_000);
        assert_eq!(a, generate(9, 50_000));
        assert_ne!(a, generate(10, 50_000));
        assert!(a.len() <= 50_000 && a.len() > 49_000, "{}", a.len());
        assert!(a.contains("\n\n"));
    }

    #[test]
    fn common_words_dominate() {
        let text = generate(1, 200_000);
        let count = |word: &str| {
            text.split_whitespace()
                .filter(|w| w.trim_matches(&[',', '.', '?', '!'][..]) == word)
                .count()
        };
        assert!(
            count("the") > 10 * count("cornbread").max(1),
            "{} vs {}",
            count("the"),
            count("cornbread")
        );
    }
}
