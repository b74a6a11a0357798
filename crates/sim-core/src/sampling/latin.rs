//! Latin hypercube strata: a pseudorandom permutation of the `n` strata of a dimension,
//! evaluated at one index without building the permutation, so run `i` finds its stratum alone.

/// The image of `i` under a pseudorandom permutation of `0..n` chosen by `seed`
/// (`i < n`, `n >= 1`).
///
/// Kensler's hash (Pixar, "Correlated Multi-Jittered Sampling", 2013): a bijection on the
/// smallest power-of-two range holding `n`, walked until it lands below `n` (cycle walking;
/// it always ends, since the walk follows a cycle of a bijection that contains `i`, and more
/// than half that range lies below `n`, so it takes under two steps on average), then rotated
/// by the seed.
pub fn permute(mut i: u32, n: u32, seed: u32) -> u32 {
    let mut w = n.wrapping_sub(1);
    w |= w >> 1;
    w |= w >> 2;
    w |= w >> 4;
    w |= w >> 8;
    w |= w >> 16;
    loop {
        i ^= seed;
        i = i.wrapping_mul(0xe170_893d);
        i ^= seed >> 16;
        i ^= (i & w) >> 4;
        i ^= seed >> 8;
        i = i.wrapping_mul(0x0929_eb3f);
        i ^= seed >> 23;
        i ^= (i & w) >> 1;
        i = i.wrapping_mul(1 | seed >> 27);
        i = i.wrapping_mul(0x6935_fa69);
        i ^= (i & w) >> 11;
        i = i.wrapping_mul(0x74dc_b303);
        i ^= (i & w) >> 2;
        i = i.wrapping_mul(0x9e50_1cc3);
        i ^= (i & w) >> 2;
        i = i.wrapping_mul(0xc860_a3df);
        i &= w;
        i ^= i >> 5;
        if i < n {
            break;
        }
    }
    ((u64::from(i) + u64::from(seed)) % u64::from(n)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_permutation_for_every_size() {
        for n in [1, 2, 3, 7, 8, 100, 1000, 1024, 1025] {
            for seed in [0, 1, 0x9e37_79b9] {
                let mut hit = vec![false; n as usize];
                for i in 0..n {
                    let j = permute(i, n, seed);
                    assert!(j < n);
                    assert!(!hit[j as usize], "n {n}, seed {seed}: {j} twice");
                    hit[j as usize] = true;
                }
            }
        }
    }

    #[test]
    fn seeds_give_different_permutations() {
        let a: Vec<u32> = (0..64).map(|i| permute(i, 64, 1)).collect();
        let b: Vec<u32> = (0..64).map(|i| permute(i, 64, 2)).collect();
        assert_ne!(a, b);
    }
}
