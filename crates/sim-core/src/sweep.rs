//! Sweep grids: axes of values over parameters, and the pure mapping between a run index and
//! a grid point (so sweeps split into chunks exactly like Monte Carlo jobs).

use crate::param::Param;

/// One axis of a sweep grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub param: Param,
    pub values: AxisValues,
}

/// The values along one axis.
#[derive(Debug, Clone, PartialEq)]
pub enum AxisValues {
    List(Vec<f64>),
    /// `num` evenly spaced values from `start` to `stop`, both included.
    Linspace { start: f64, stop: f64, num: u32 },
    /// `num` geometrically spaced values from `start` to `stop` (both > 0), both included.
    Logspace { start: f64, stop: f64, num: u32 },
}
