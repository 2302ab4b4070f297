//! Fuzz-ish robustness: arbitrary bytes and mutated Go must never panic or
//! hang the parser, including on incremental re-parses.

mod common;

use common::{nodes, ours};
use tree_sitter::{InputEdit, Parser, Point};

const FIXTURE: &str = include_str!("fixtures/go126.go");

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Go-ish fragments, biased towards the `new(...)` corner of the grammar.
const FRAGMENTS: &[&str] = &[
    "new(",
    "new",
    "make(",
    ")",
    "(",
    "{",
    "}",
    "[",
    "]",
    ",",
    "...",
    "*",
    "&",
    "<-",
    "chan ",
    "map[",
    "struct{",
    "interface{",
    "func(",
    "int64(5)",
    "1024",
    "\"\"",
    "`",
    "'",
    "T{}",
    "pkg.T",
    "[]int",
    "5 * time.Minute",
    "\n",
    ";",
    ":=",
    "=",
    "go ",
    "defer ",
    "range ",
    "type ",
    "[T any]",
    "~int |",
    "//",
    "/*",
    "*/",
    "0x",
    "1e",
    "\\",
    "\u{00e9}",
    "\0",
];

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut out = src.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            1 => {
                let frag = FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes();
                out.splice(at..at, frag.iter().copied());
            }
            2 if at < out.len() => out[at] = rng.next() as u8,
            3 => {
                // splice a random slice of the source somewhere else
                let from = rng.below(src.len());
                let to = (from + rng.below(64)).min(src.len());
                out.splice(at..at, src[from..to].iter().copied());
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

fn check(parser: &mut Parser, src: &[u8]) {
    let tree = parser.parse(src, None).expect("parse returned no tree");
    let root = tree.root_node();
    assert_eq!(root.end_byte(), src.len().max(root.end_byte()));
    // Walk the whole tree and render it: exercises every node accessor used
    // by redline.
    let count = nodes(&tree).len();
    assert!(count >= 1);
    let _ = root.to_sexp();
}

fn point_of(src: &[u8], byte: usize) -> Point {
    let before = &src[..byte];
    let row = before.iter().filter(|&&b| b == b'\n').count();
    let column = byte
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    Point { row, column }
}

#[test]
fn random_bytes_never_panic() {
    let mut parser = ours();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..500 {
        let len = rng.below(512);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        check(&mut parser, &bytes);
        // Random ASCII is closer to source text than random bytes.
        let ascii: Vec<u8> = bytes.iter().map(|b| b' ' + b % 95).collect();
        check(&mut parser, &ascii);
    }
}

#[test]
fn mutated_go_never_panics() {
    let mut parser = ours();
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let seeds: Vec<&[u8]> = FIXTURE
        .split("\n// ----")
        .map(str::as_bytes)
        .chain([FIXTURE.as_bytes()])
        .collect();
    for i in 0..600 {
        let seed = seeds[i % seeds.len()];
        let mutated = mutate(&mut rng, seed);
        check(&mut parser, &mutated);
    }
}

/// Replace `src[start..old_end]` by `text`, editing `tree` to match.
fn edit(
    src: &mut Vec<u8>,
    tree: &mut tree_sitter::Tree,
    start: usize,
    old_end: usize,
    text: &[u8],
) {
    let start_position = point_of(src, start);
    let old_end_position = point_of(src, old_end);
    src.splice(start..old_end, text.iter().copied());
    tree.edit(&InputEdit {
        start_byte: start,
        old_end_byte: old_end,
        new_end_byte: start + text.len(),
        start_position,
        old_end_position,
        new_end_position: point_of(src, start + text.len()),
    });
}

#[test]
fn incremental_reparse_of_garbage_never_panics() {
    // Error recovery may legitimately differ between an incremental and a
    // fresh parse of broken input, so only robustness is checked here.
    let mut parser = ours();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut src = FIXTURE.as_bytes().to_vec();
    let mut tree = parser.parse(&src, None).unwrap();
    for _ in 0..200 {
        let start = rng.below(src.len() + 1);
        let old_end = (start + rng.below(12)).min(src.len());
        let frag = FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes();
        edit(&mut src, &mut tree, start, old_end, frag);
        tree = parser.parse(&src, Some(&tree)).unwrap();
        let _ = tree.root_node().to_sexp();
    }
}

#[test]
fn incremental_reparse_of_new_operands_matches_fresh_parse() {
    // Swap the operand of `new(...)` calls between types and expressions and
    // re-parse incrementally: on valid Go the result must be a fresh parse.
    const OPERANDS: &[&str] = &[
        "int",
        "1024",
        "int64(5)",
        "map[string]int",
        "map[string]int{}",
        "PodIndex{}",
        "x",
        "*p",
        "*PodIndex",
        "[]int",
        "[]int{1}",
        "(x)",
        "5 * time.Minute",
        "pkg.T",
        "p.Name()",
        "struct{}",
        "struct{}{}",
        "G[int]",
        "G[int]{}",
        "func() {}",
        "func()",
        "\"\"",
    ];
    let mut parser = ours();
    let mut rng = Rng(0x5eed_5eed_5eed_5eed);
    let mut src = FIXTURE.as_bytes().to_vec();
    let mut tree = parser.parse(&src, None).unwrap();
    for _ in 0..200 {
        let calls: Vec<(usize, usize)> = nodes(&tree)
            .into_iter()
            .filter(|n| n.kind() == "argument_list")
            .filter(|n| {
                n.prev_sibling()
                    .is_some_and(|f| &src[f.byte_range()] == b"new")
            })
            .map(|n| (n.start_byte() + 1, n.end_byte() - 1))
            .collect();
        let (start, end) = calls[rng.below(calls.len())];
        let operand = OPERANDS[rng.below(OPERANDS.len())];
        edit(&mut src, &mut tree, start, end, operand.as_bytes());
        tree = parser.parse(&src, Some(&tree)).unwrap();
        let fresh = ours().parse(&src, None).unwrap();
        assert!(!fresh.root_node().has_error(), "new({operand})");
        assert_eq!(
            tree.root_node().to_sexp(),
            fresh.root_node().to_sexp(),
            "new({operand})"
        );
    }
}
