//! The batch kernel gives every run bit-identical metrics to the one-run kernel, on every
//! instruction set, whatever the mix of runs in a group.

use proptest::prelude::*;
use tanksim_sim_core::batch::{Isa, LANES, is_vectorised, simulate_batch, simulate_batch_with};
use tanksim_sim_core::config::{AntiWindup, Controller, FirstOrder, MeasurementNoise, Pid, Plant, Profile};
use tanksim_sim_core::simulate::simulate;
use tanksim_sim_core::{RunMetrics, SimConfig};

const ISAS: [Isa; 4] = [Isa::Auto, Isa::Portable, Isa::Avx2, Isa::Avx512];

fn bits(m: &RunMetrics) -> Vec<Option<u64>> {
    tanksim_sim_core::Metric::ALL.iter().map(|&k| m.get(k).map(f64::to_bits)).collect()
}

fn assert_batch_matches_single(configs: &[SimConfig]) {
    let single: Vec<_> = configs.iter().map(|c| bits(&simulate(c).metrics)).collect();
    for isa in ISAS {
        let mut out = Vec::new();
        simulate_batch_with(configs, isa, &mut out);
        assert_eq!(out.len(), configs.len());
        for (i, (b, s)) in out.iter().zip(&single).enumerate() {
            assert_eq!(&bits(b), s, "run {i} with {isa:?}: {:?}", configs[i]);
        }
    }
}

/// A canonical-shape run with arbitrary parameters: what the vector lanes take.
fn canonical() -> impl Strategy<Value = SimConfig> {
    (
        0.5f64..40.0,
        0.1f64..5.0,
        -1.0f64..1.0,
        -1.0f64..3.0,
        0.0f64..5.0,
        0.0f64..2.0,
        0.0f64..0.5,
        0.5f64..2.0,
    )
        .prop_map(|(tau, gain, h0, r, kp, ki, lo, width)| {
            let mut c = SimConfig::mc_tau(tau);
            c.plant = Plant::FirstOrder(FirstOrder { gain, tau, h0 });
            c.controller = Controller::Pid(Pid::pi(kp, ki, lo - 0.5, lo - 0.5 + width));
            c.input = Profile::Step { initial: 0.0, value: r, at: 0.0 };
            c.horizon = 20.0;
            c
        })
}

/// A run the lanes cannot take (derivative, other anti-windup, moving setpoint, noise).
fn other() -> impl Strategy<Value = SimConfig> {
    (canonical(), 0usize..4).prop_map(|(mut c, kind)| {
        let Controller::Pid(mut pid) = c.controller else { unreachable!() };
        match kind {
            0 => pid.kd = 0.3,
            1 => pid.anti_windup = AntiWindup::BackCalculation { gain: 1.0 },
            2 => c.input = Profile::Ramp { from: 0.0, to: 1.0, start: 0.0, end: 5.0 },
            _ => c.noise = Some(MeasurementNoise { sd: 0.01, seed: 7 }),
        }
        c.controller = Controller::Pid(pid);
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn canonical_runs_match_bit_for_bit(configs in prop::collection::vec(canonical(), 1..(3 * LANES))) {
        prop_assert!(configs.iter().all(is_vectorised));
        assert_batch_matches_single(&configs);
    }

    #[test]
    fn mixed_groups_match_bit_for_bit(configs in prop::collection::vec(prop_oneof![3 => canonical(), 1 => other()], 1..(2 * LANES))) {
        assert_batch_matches_single(&configs);
    }
}

#[test]
fn mc_tau_lanes_match_the_literal_definition_through_simulate() {
    // simulate() is pinned to the literal canonical loop in its unit tests; this pins the
    // batch kernel to simulate() on the exact MC-tau runs, including a partial last group.
    let configs: Vec<_> = (0..(LANES + 5)).map(|i| SimConfig::mc_tau(1.0 + i as f64 * 0.9)).collect();
    assert_batch_matches_single(&configs);
    let mut out = Vec::new();
    simulate_batch(&configs, &mut out);
    assert!(out.iter().all(|m| m.overshoot_pct.is_some_and(|o| o >= 0.0)));
    let o: Vec<_> = out.iter().map(|m| m.overshoot_pct.unwrap_or(-1.0)).collect();
    assert!(o.iter().filter(|&&o| o > 0.0).count() > LANES / 2, "{o:?}");
}

#[test]
fn downward_steps_and_differing_step_counts_fall_back_correctly() {
    let mut configs: Vec<_> = (0..LANES).map(|i| SimConfig::mc_tau(2.0 + i as f64)).collect();
    configs[3].input = Profile::Step { initial: 0.0, value: -0.5, at: 0.0 };
    configs[3].controller = Controller::Pid(Pid::pi(2.0, 0.5, -1.0, 1.0));
    configs[5].horizon = 30.0; // a different step count: the group runs one by one
    assert_batch_matches_single(&configs);
}

#[test]
fn saturation_after_unsaturated_blocks_rolls_back_to_the_same_bits() {
    // An underdamped loop whose output rises unsaturated for a long while and then hits its
    // upper limit, in every lane: the batch kernel runs blocks speculatively as linear once a
    // block saw no saturation, and must discard and rerun the block where it saturates.
    let lane = |kp: f64, ki: f64, hi: f64, tau: f64| {
        let mut c = SimConfig::mc_tau(tau);
        c.controller = Controller::Pid(Pid::pi(kp, ki, 0.0, hi));
        c.horizon = 120.0;
        c
    };
    let resaturates = |c: &SimConfig| {
        let mut traced = c.clone();
        traced.record = tanksim_sim_core::config::Recording::Full;
        let u = simulate(&traced).trajectory.unwrap().u;
        let Controller::Pid(pid) = c.controller else { return false };
        let sat: Vec<bool> = u.iter().map(|&u| u <= pid.u_min || u >= pid.u_max).collect();
        !sat[..64].iter().any(|&s| s)
            && (128..sat.len()).any(|k| sat[k] && sat[k - 128..k].iter().all(|s| !s))
    };
    let (kp, ki, hi) = [0.2, 0.3, 0.5, 0.8]
        .into_iter()
        .flat_map(|kp| [0.2, 0.5].into_iter().flat_map(move |ki| [0.8, 0.9].map(|hi| (kp, ki, hi))))
        .find(|&(kp, ki, hi)| resaturates(&lane(kp, ki, hi, 20.0)))
        .expect("a loop that saturates only after a long unsaturated rise");
    let configs: Vec<_> = (0..LANES).map(|i| lane(kp, ki, hi, 20.0 + i as f64 * 0.01)).collect();
    assert!(configs.iter().all(resaturates));
    assert_batch_matches_single(&configs);
}
