//! The eigendecomposition of a small symmetric matrix by cyclic Jacobi rotations: plain
//! arithmetic in a fixed order, so every machine that replays a search gets the same bits.

/// Sweeps before giving up on the off-diagonal reaching zero (a handful suffice: Jacobi
/// converges quadratically).
const MAX_SWEEPS: usize = 64;

/// Eigenvalues and eigenvectors of the symmetric `n`×`n` matrix `a` (row-major): returns
/// `(values, vectors)` with `vectors` row-major and eigenvector `k` in column `k`, so that
/// `a = V · diag(values) · Vᵀ`.
pub(crate) fn symmetric(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = identity(n);
    for _ in 0..MAX_SWEEPS {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        let diag: f64 = (0..n).map(|i| a[i * n + i].powi(2)).sum();
        if off <= diag * 1e-30 || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut a, &mut v, n, p, q);
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// The identity matrix of size `n`, row-major.
pub(crate) fn identity(n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    (0..n).for_each(|i| m[i * n + i] = 1.0);
    m
}

/// One Jacobi rotation zeroing `a[p][q]` (Golub and Van Loan, Algorithm 8.5.2).
fn rotate(a: &mut [f64], v: &mut [f64], n: usize, p: usize, q: usize) {
    let apq = a[p * n + q];
    if apq == 0.0 {
        return;
    }
    let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for k in 0..n {
        let (akp, akq) = (a[k * n + p], a[k * n + q]);
        a[k * n + p] = c * akp - s * akq;
        a[k * n + q] = s * akp + c * akq;
    }
    for k in 0..n {
        let (apk, aqk) = (a[p * n + k], a[q * n + k]);
        a[p * n + k] = c * apk - s * aqk;
        a[q * n + k] = s * apk + c * aqk;
    }
    for k in 0..n {
        let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
        v[k * n + p] = c * vkp - s * vkq;
        v[k * n + q] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_a_symmetric_matrix_from_orthonormal_eigenvectors() {
        let n = 4;
        let a = [4.0, 1.0, -2.0, 0.5, 1.0, 3.0, 0.0, 0.25, -2.0, 0.0, 5.0, 1.5, 0.5, 0.25, 1.5, 2.0];
        let (values, v) = symmetric(&a, n);
        for i in 0..n {
            for j in 0..n {
                let back: f64 = (0..n).map(|k| v[i * n + k] * values[k] * v[j * n + k]).sum();
                assert!((back - a[i * n + j]).abs() < 1e-12, "({i}, {j}): {back}");
                let dot: f64 = (0..n).map(|k| v[k * n + i] * v[k * n + j]).sum();
                assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12, "columns {i}, {j}: {dot}");
            }
        }
        // The trace is the eigenvalues' sum.
        assert!((values.iter().sum::<f64>() - 14.0).abs() < 1e-12);
    }

    #[test]
    fn a_diagonal_matrix_is_its_own_decomposition() {
        let (values, v) = symmetric(&[2.0, 0.0, 0.0, 7.0], 2);
        assert_eq!((values, v), (vec![2.0, 7.0], identity(2)));
    }
}
