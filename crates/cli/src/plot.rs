//! SVG pictures of results: a histogram per metric, a heatmap of a 2-D sweep's objective, a bar
//! chart of a sensitivity job's Sobol' indices per metric, an optimisation's path. Plain SVG written by hand: opens in
//! any browser, no plotting dependency.
//!
//! - `histogram`: [`histograms`] and [`histogram_svg`].
//! - `heatmap`: [`heatmap_svg`].
//! - `sobol`: [`sensitivity_charts`] and [`sobol_svg`].
//! - `path`: [`path_svg`], an optimisation's best objective per generation.
//! - `axes` (frame, grid, axes, header, escaping, viridis) and `ticks` ("nice" tick values and
//!   their labels): shared by the three.

mod axes;
mod heatmap;
mod histogram;
mod path;
mod sobol;
mod ticks;

pub use heatmap::heatmap_svg;
pub use histogram::{histogram_svg, histograms};
pub use path::path_svg;
pub use sobol::{sensitivity_charts, sobol_svg};
