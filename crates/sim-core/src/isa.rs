//! Runtime CPU-feature dispatch: the instruction sets the kernels are compiled for, picked
//! once per call from what the CPU reports. Release binaries are built for baseline x86-64 (no
//! `target-cpu=native`) so they run on any node; the hot loops still get AVX-512 or AVX2.
//!
//! The only `unsafe` in the crate lives here: calling a `#[target_feature]` function is unsafe
//! because running it on a CPU without the feature is undefined. Every call is guarded by the
//! matching `is_x86_feature_detected!`.
//!
//! Fused multiply-add is enabled with the vector sets, and also on its own for the scalar
//! kernels. That never changes results: Rust does not contract `a*b + c` into an FMA by
//! itself (the canonical `a*h + b*u` stays two roundings), and explicit `mul_add` is
//! correctly rounded whether the hardware or `libm` computes it.

/// Which instruction set a kernel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// The best the CPU offers.
    Auto,
    /// The build's baseline (SSE2 on x86-64), with FMA when the CPU has it.
    Portable,
    Avx2,
    Avx512,
}

impl Isa {
    /// The best instruction set this CPU supports.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("fma") {
                return Isa::Avx512;
            }
            if has!("avx2") && has!("fma") {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }

    /// `self`, or the best supported set below it: never instructions the CPU lacks.
    pub fn resolve(self) -> Isa {
        let best = Isa::detect();
        match self {
            Isa::Auto => best,
            Isa::Avx512 if best != Isa::Avx512 => best,
            Isa::Avx2 if best == Isa::Portable => best,
            isa => isa,
        }
    }

    /// Runs `f` compiled for this instruction set (resolved first). Pass an
    /// `#[inline(always)] || kernel(...)` closure around an `#[inline(always)]` kernel: only
    /// code inlined into the feature-enabled wrapper is compiled with its features (a plain
    /// closure was measured to run the AVX-512 path at baseline speed, 9x slower).
    #[inline(always)]
    pub(crate) fn run<R>(self, f: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        {
            match self.resolve() {
                Isa::Avx512 => return x86::avx512(f),
                Isa::Avx2 => return x86::avx2(f),
                Isa::Auto | Isa::Portable => return x86::fma_if_available(f),
            }
        }
        #[allow(unreachable_code)]
        f()
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use std::arch::is_x86_feature_detected as has;

    #[inline(always)]
    pub(super) fn avx512<R>(f: impl FnOnce() -> R) -> R {
        debug_assert!(has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("fma"));
        // SAFETY: `Isa::resolve` picks Avx512 only when the CPU reports all these features.
        unsafe { avx512_impl(f) }
    }

    #[inline(always)]
    pub(super) fn avx2<R>(f: impl FnOnce() -> R) -> R {
        debug_assert!(has!("avx2") && has!("fma"));
        // SAFETY: `Isa::resolve` picks Avx2 only when the CPU reports avx2 and fma.
        unsafe { avx2_impl(f) }
    }

    #[inline(always)]
    pub(super) fn fma_if_available<R>(f: impl FnOnce() -> R) -> R {
        if has!("fma") {
            // SAFETY: checked just above.
            unsafe { fma_impl(f) }
        } else {
            f()
        }
    }

    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,avx,fma")]
    fn avx512_impl<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    #[target_feature(enable = "avx2,avx,fma")]
    fn avx2_impl<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    #[target_feature(enable = "fma")]
    fn fma_impl<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}
