//! Sobol' points with Owen scrambling, one point at a time.
//!
//! Point `i` of dimension `d` is computed directly from `i` (in Gray-code order, as Joe and
//! Kuo's and SciPy's generators emit them): no state carried between points, so a chunk of a
//! job computes its runs' points alone and gets the same values however the job is split.
//!
//! Scrambling is a nested uniform (Owen) scramble done by hashing (Burley, "Practical
//! Hash-based Owen Scrambling", JCGT 2020): reverse the bits, apply a Laine-Karras style
//! permutation in which every bit depends only on the bits below it, reverse back. Each digit
//! is thus permuted depending only on the digits before it, which keeps every elementary
//! interval of the net holding its share of points, while making the points an unbiased
//! randomisation (each one uniform on the cube). The digits past the 32 a point carries are
//! independent uniform bits, as Owen scrambling makes them.

/// Dimensions the table has: enough for a Saltelli design of every parameter tanksim can
/// vary (two per parameter: matrices A and B).
pub const DIMENSIONS: usize = 64;
/// The highest degree of a primitive polynomial of the table.
const MAX_DEGREE: usize = 9;
/// Bits per coordinate: 2^32 points before the sequence repeats.
const BITS: usize = 32;

/// `(primitive polynomial, initial direction numbers m_1..m_s)` of dimensions 0..64, from Joe
/// and Kuo's `new-joe-kuo-6.21201` (the table SciPy's `scipy.stats.qmc.Sobol` ships). The
/// polynomial's bits are its coefficients, degree `s` its bit length minus one; dimension 0 is
/// the van der Corput sequence (every `m_k = 1`).
const TABLE: [(u32, [u32; MAX_DEGREE]); DIMENSIONS] = [
    (1, [1, 1, 1, 1, 1, 1, 1, 1, 1]),
    (3, [1, 0, 0, 0, 0, 0, 0, 0, 0]),
    (7, [1, 3, 0, 0, 0, 0, 0, 0, 0]),
    (11, [1, 3, 1, 0, 0, 0, 0, 0, 0]),
    (13, [1, 1, 1, 0, 0, 0, 0, 0, 0]),
    (19, [1, 1, 3, 3, 0, 0, 0, 0, 0]),
    (25, [1, 3, 5, 13, 0, 0, 0, 0, 0]),
    (37, [1, 1, 5, 5, 17, 0, 0, 0, 0]),
    (41, [1, 1, 5, 5, 5, 0, 0, 0, 0]),
    (47, [1, 1, 7, 11, 19, 0, 0, 0, 0]),
    (55, [1, 1, 5, 1, 1, 0, 0, 0, 0]),
    (59, [1, 1, 1, 3, 11, 0, 0, 0, 0]),
    (61, [1, 3, 5, 5, 31, 0, 0, 0, 0]),
    (67, [1, 3, 3, 9, 7, 49, 0, 0, 0]),
    (91, [1, 1, 1, 15, 21, 21, 0, 0, 0]),
    (97, [1, 3, 1, 13, 27, 49, 0, 0, 0]),
    (103, [1, 1, 1, 15, 7, 5, 0, 0, 0]),
    (109, [1, 3, 1, 15, 13, 25, 0, 0, 0]),
    (115, [1, 1, 5, 5, 19, 61, 0, 0, 0]),
    (131, [1, 3, 7, 11, 23, 15, 103, 0, 0]),
    (137, [1, 3, 7, 13, 13, 15, 69, 0, 0]),
    (143, [1, 1, 3, 13, 7, 35, 63, 0, 0]),
    (145, [1, 3, 5, 9, 1, 25, 53, 0, 0]),
    (157, [1, 3, 1, 13, 9, 35, 107, 0, 0]),
    (167, [1, 3, 1, 5, 27, 61, 31, 0, 0]),
    (171, [1, 1, 5, 11, 19, 41, 61, 0, 0]),
    (185, [1, 3, 5, 3, 3, 13, 69, 0, 0]),
    (191, [1, 1, 7, 13, 1, 19, 1, 0, 0]),
    (193, [1, 3, 7, 5, 13, 19, 59, 0, 0]),
    (203, [1, 1, 3, 9, 25, 29, 41, 0, 0]),
    (211, [1, 3, 5, 13, 23, 1, 55, 0, 0]),
    (213, [1, 3, 7, 3, 13, 59, 17, 0, 0]),
    (229, [1, 3, 1, 3, 5, 53, 69, 0, 0]),
    (239, [1, 1, 5, 5, 23, 33, 13, 0, 0]),
    (241, [1, 1, 7, 7, 1, 61, 123, 0, 0]),
    (247, [1, 1, 7, 9, 13, 61, 49, 0, 0]),
    (253, [1, 3, 3, 5, 3, 55, 33, 0, 0]),
    (285, [1, 3, 1, 15, 31, 13, 49, 245, 0]),
    (299, [1, 3, 5, 15, 31, 59, 63, 97, 0]),
    (301, [1, 3, 1, 11, 11, 11, 77, 249, 0]),
    (333, [1, 3, 1, 11, 27, 43, 71, 9, 0]),
    (351, [1, 1, 7, 15, 21, 11, 81, 45, 0]),
    (355, [1, 3, 7, 3, 25, 31, 65, 79, 0]),
    (357, [1, 3, 1, 1, 19, 11, 3, 205, 0]),
    (361, [1, 1, 5, 9, 19, 21, 29, 157, 0]),
    (369, [1, 3, 7, 11, 1, 33, 89, 185, 0]),
    (391, [1, 3, 3, 3, 15, 9, 79, 71, 0]),
    (397, [1, 3, 7, 11, 15, 39, 119, 27, 0]),
    (425, [1, 1, 3, 1, 11, 31, 97, 225, 0]),
    (451, [1, 1, 1, 3, 23, 43, 57, 177, 0]),
    (463, [1, 3, 7, 7, 17, 17, 37, 71, 0]),
    (487, [1, 3, 1, 5, 27, 63, 123, 213, 0]),
    (501, [1, 1, 3, 5, 11, 43, 53, 133, 0]),
    (529, [1, 3, 5, 5, 29, 17, 47, 173, 479]),
    (539, [1, 3, 3, 11, 3, 1, 109, 9, 69]),
    (545, [1, 1, 1, 5, 17, 39, 23, 5, 343]),
    (557, [1, 3, 1, 5, 25, 15, 31, 103, 499]),
    (563, [1, 1, 1, 11, 11, 17, 63, 105, 183]),
    (601, [1, 1, 5, 11, 9, 29, 97, 231, 363]),
    (607, [1, 1, 5, 15, 19, 45, 41, 7, 383]),
    (617, [1, 3, 7, 7, 31, 19, 83, 137, 221]),
    (623, [1, 1, 1, 3, 23, 15, 111, 223, 83]),
    (631, [1, 1, 5, 13, 31, 15, 55, 25, 161]),
    (637, [1, 1, 3, 13, 25, 47, 39, 87, 257]),
];

/// The direction numbers `v_k` (as 32-bit fractions) of every dimension, computed at compile
/// time from [`TABLE`] by Joe and Kuo's recurrence.
static DIRECTIONS: [[u32; BITS]; DIMENSIONS] = directions();

const fn directions() -> [[u32; BITS]; DIMENSIONS] {
    let mut out = [[0u32; BITS]; DIMENSIONS];
    let mut d = 0;
    while d < DIMENSIONS {
        let (poly, m) = TABLE[d];
        let degree = (31 - poly.leading_zeros()) as usize;
        let mut k = 0;
        while k < BITS {
            out[d][k] = if d == 0 {
                1 << (BITS - 1 - k)
            } else if k < degree {
                m[k] << (BITS - 1 - k)
            } else {
                // v_k = v_{k-s} ^ (v_{k-s} >> s) ^ sum over the polynomial's inner
                // coefficients a_i of a_i v_{k-i}.
                let mut v = out[d][k - degree] ^ (out[d][k - degree] >> degree);
                let mut i = 1;
                while i < degree {
                    if (poly >> (degree - i)) & 1 == 1 {
                        v ^= out[d][k - i];
                    }
                    i += 1;
                }
                v
            };
            k += 1;
        }
        d += 1;
    }
    out
}

/// Coordinate `dim` of point `index` of the unscrambled sequence, as a 32-bit fraction
/// (`index < 2^32`, `dim < DIMENSIONS`).
pub fn point(index: u32, dim: usize) -> u32 {
    let directions = &DIRECTIONS[dim];
    let mut gray = index ^ (index >> 1);
    let mut x = 0;
    let mut k = 0;
    while gray != 0 {
        if gray & 1 == 1 {
            x ^= directions[k];
        }
        gray >>= 1;
        k += 1;
    }
    x
}

/// `x` Owen-scrambled with `seed`: a nested uniform permutation of its binary digits.
pub fn scramble(x: u32, seed: u32) -> u32 {
    owen_hash(x.reverse_bits(), seed).reverse_bits()
}

/// A permutation of 32-bit values in which each bit depends only on the bits below it
/// (additions and multiplications by even constants carry upward only): applied to reversed
/// digits it is a nested scramble. Constants from Vegdahl's "Building a better LK hash" (2021),
/// which improve on Laine and Karras's.
fn owen_hash(mut x: u32, seed: u32) -> u32 {
    x ^= x.wrapping_mul(0x3d20_adea);
    x = x.wrapping_add(seed);
    x = x.wrapping_mul((seed >> 16) | 1);
    x ^= x.wrapping_mul(0x0552_6c56);
    x ^= x.wrapping_mul(0x53a2_2864);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scipy.stats.qmc.Sobol(d=4, scramble=False).random(16) * 16`, by dimension.
    const SCIPY: [[u32; 16]; 4] = [
        [0, 8, 12, 4, 6, 14, 10, 2, 3, 11, 15, 7, 5, 13, 9, 1],
        [0, 8, 4, 12, 6, 14, 2, 10, 5, 13, 1, 9, 3, 11, 7, 15],
        [0, 8, 4, 12, 10, 2, 14, 6, 15, 7, 11, 3, 5, 13, 1, 9],
        [0, 8, 4, 12, 14, 6, 10, 2, 7, 15, 3, 11, 9, 1, 13, 5],
    ];

    #[test]
    fn the_unscrambled_sequence_is_scipys() {
        for (dim, want) in SCIPY.iter().enumerate() {
            let got: Vec<u32> = (0..16).map(|i| point(i, dim) >> 28).collect();
            assert_eq!(got, want, "dimension {dim}");
        }
    }

    #[test]
    fn direction_numbers_are_odd_multiples_of_their_bit() {
        // v_k = m_k / 2^(k+1) with m_k odd and below 2^(k+1): its lowest set bit is bit k of
        // the fraction, and it has no higher bit than the first.
        for (d, directions) in DIRECTIONS.iter().enumerate() {
            for (k, v) in directions.iter().enumerate() {
                assert_eq!(v.trailing_zeros() as usize, BITS - 1 - k, "dimension {d}, v_{k}");
            }
        }
    }

    #[test]
    fn scrambling_is_a_nested_permutation() {
        // Points agreeing in their top j bits still agree after scrambling, and a scramble
        // is a bijection on the top bits.
        for seed in [0, 1, 0xdead_beef] {
            let mut seen = [false; 256];
            for top in 0..256u32 {
                let x = top << 24;
                let y = scramble(x, seed);
                assert_eq!(scramble(x | 0x00ff_ffff, seed) >> 24, y >> 24, "seed {seed}");
                seen[(y >> 24) as usize] = true;
            }
            assert!(seen.iter().all(|s| *s), "seed {seed}: not a permutation of the top byte");
        }
    }
}
