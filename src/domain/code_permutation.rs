//! A keyed permutation of a code space (COD-4's randomized common codes): the n-th code an
//! offer makes is `code_at(format, permutation.index(n))`. Unique by construction (a
//! bijection of `0..space`), so the whole space can be used without draw-and-retry — seed
//! 001's "max 60 million unique coupons" for a 10-character alphanumeric sample is 36^5 —
//! in constant memory, and resumable from a counter. Without the offer's key the order looks
//! random, so the next code cannot be told from the last.
//!
//! The construction is a balanced Feistel network over the smallest even number of bits that
//! holds the space, with cycle walking back into the space (Black & Rogaway, "Ciphers with
//! arbitrary finite domains"); the round function is SHA-256 of the key, the round and the
//! half. NIST's FF1 (the `fpe` crate) was not used: it requires a domain of at least a
//! million, and short samples have random parts of 1,000 or 100,000 codes.

use sha2::{Digest, Sha256};

const ROUNDS: u8 = 6;

/// The key and size of an offer's code permutation.
#[derive(Clone, PartialEq, Eq)]
pub struct CodePermutation {
    key: [u8; 16],
    space: u128,
    half_bits: u32,
}

impl std::fmt::Debug for CodePermutation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        write!(f, "CodePermutation {{ space: {} }}", self.space)
    }
}

impl CodePermutation {
    /// A permutation of `0..space` (space ≥ 1) under `key`.
    pub fn new(key: [u8; 16], space: u128) -> CodePermutation {
        let bits = (u128::BITS - space.saturating_sub(1).leading_zeros()).max(2);
        CodePermutation {
            key,
            space: space.max(1),
            half_bits: bits.div_ceil(2),
        }
    }

    pub fn space(&self) -> u128 {
        self.space
    }

    /// The code number at position `n` (< space) of the permutation.
    pub fn index(&self, n: u128) -> u128 {
        debug_assert!(n < self.space);
        // Cycle walking: the network permutes 0..2^(2h) ⊇ 0..space, so following it from a
        // number inside the space comes back inside the space, and stays a bijection.
        let mut x = n;
        loop {
            x = self.feistel(x);
            if x < self.space {
                return x;
            }
        }
    }

    fn feistel(&self, x: u128) -> u128 {
        let mask = (1u128 << self.half_bits) - 1;
        let (mut left, mut right) = (x >> self.half_bits, x & mask);
        for round in 0..ROUNDS {
            let next = left ^ (self.round(round, right) & mask);
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }

    fn round(&self, round: u8, half: u128) -> u128 {
        let digest = Sha256::new()
            .chain_update(self.key)
            .chain_update([round])
            .chain_update(half.to_le_bytes())
            .finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        u128::from_le_bytes(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn every_index(p: &CodePermutation) -> Vec<u128> {
        (0..p.space()).map(|n| p.index(n)).collect()
    }

    #[test]
    fn each_position_gives_a_different_code_number_and_all_are_used() {
        // The random halves of samples of 5, 6 and 10 characters, and odd sizes.
        for space in [1u128, 2, 10, 1_000, 36u128.pow(3), 100_000, 12_345] {
            let p = CodePermutation::new([7; 16], space);
            let got = every_index(&p);
            let distinct: HashSet<u128> = got.iter().copied().collect();
            assert_eq!(distinct.len() as u128, space, "space {space}");
            assert!(got.iter().all(|&i| i < space), "space {space}");
        }
    }

    #[test]
    fn the_order_depends_on_the_key_and_does_not_count_up() {
        let a = CodePermutation::new([1; 16], 36u128.pow(5));
        let b = CodePermutation::new([2; 16], 36u128.pow(5));
        let first_a: Vec<u128> = (0..20).map(|n| a.index(n)).collect();
        let first_b: Vec<u128> = (0..20).map(|n| b.index(n)).collect();
        assert_ne!(first_a, first_b);
        // Consecutive positions land far apart in a space of 60 million.
        let close = first_a
            .windows(2)
            .filter(|w| w[0].abs_diff(w[1]) < 1_000)
            .count();
        assert!(close <= 1, "{first_a:?}");
        // The same key gives the same order (a job can resume from its counter).
        assert_eq!(
            first_a,
            (0..20)
                .map(|n| CodePermutation::new([1; 16], 36u128.pow(5)).index(n))
                .collect::<Vec<_>>()
        );
    }
}
