//! `tanksim.v1.SimulationService.Simulate`: one run with its trajectory, computed in the
//! gateway on a blocking thread (a run is ~30 µs to a few ms; no queue round trip). Counted as
//! a request of kind `single`, its simulation time observed, failures counted by reason.

use std::time::Instant;

use tanksim_proto::v1::simulation_service_server::SimulationService;
use tanksim_proto::v1::{SimulateRequest, SimulateResponse, Trajectory};
use tonic::{Request, Response, Status};

use crate::config::GatewaySettings;
use crate::error::Error;
use crate::metrics;

/// The single-run API.
#[derive(Debug, Clone)]
pub struct Simulation {
    settings: GatewaySettings,
}

impl Simulation {
    pub fn new(settings: GatewaySettings) -> Self {
        Self { settings }
    }

    async fn simulate(&self, request: SimulateRequest) -> Result<SimulateResponse, Error> {
        let config = tanksim_proto::convert::simulate_config(&request, &self.settings.limits)
            .map_err(Error::Invalid)?;
        let started = Instant::now();
        let output = tokio::task::spawn_blocking(move || tanksim_sim_core::simulate::simulate(&config))
            .await
            .map_err(|e| Error::Simulation(e.to_string()))?;
        metrics::simulated(started.elapsed());
        Ok(SimulateResponse {
            metrics: tanksim_proto::convert::metric_values(&output.metrics),
            trajectory: output.trajectory.map(|t| Trajectory { t: t.t, h: t.h, u: t.u, r: t.r }),
        })
    }
}

#[tonic::async_trait]
impl SimulationService for Simulation {
    async fn simulate(
        &self,
        request: Request<SimulateRequest>,
    ) -> Result<Response<SimulateResponse>, Status> {
        metrics::requested(metrics::SINGLE);
        let result =
            Simulation::simulate(self, request.into_inner()).await.map(Response::new).map_err(Status::from);
        metrics::count_failure(&result);
        result
    }
}
