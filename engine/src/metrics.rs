//! Prometheus metrics (OpenMetrics text at `/metrics`): cycles by type and outcome, objects by
//! action and status, SCIM requests by status code and their latency, per application; jobs by
//! state, read from the database when scraped. Counters start at zero with the process, as
//! Prometheus expects.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use uuid::Uuid;

use crate::{Engine, Result};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CycleLabels {
    application: String,
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabels {
    application: String,
    action: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    application: String,
    /// The HTTP status code, or "error" when no answer came (reset, timeout).
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApplicationLabels {
    application: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The registry and the handles the engine records through (cheap to clone: shared counters).
#[derive(Clone)]
pub struct Metrics {
    registry: std::sync::Arc<Registry>,
    cycles: Family<CycleLabels, Counter>,
    objects: Family<ObjectLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<ApplicationLabels, Histogram>,
    jobs: Family<StateLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("scimitar");
        let cycles = Family::<CycleLabels, Counter>::default();
        let objects = Family::<ObjectLabels, Counter>::default();
        let requests = Family::<RequestLabels, Counter>::default();
        // 5 ms to about 40 s.
        let latency = Family::<ApplicationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        let jobs = Family::<StateLabels, Gauge>::default();
        registry.register(
            "provisioning_cycles",
            "Provisioning cycles finished, by type and outcome",
            cycles.clone(),
        );
        registry.register(
            "provisioning_objects",
            "Object decisions of provisioning cycles, by action and status",
            objects.clone(),
        );
        registry.register(
            "scim_requests",
            "SCIM requests sent to applications, by HTTP status code",
            requests.clone(),
        );
        registry.register(
            "scim_request_duration_seconds",
            "Time from sending a SCIM request to its answer",
            latency.clone(),
        );
        registry.register(
            "provisioning_jobs",
            "Provisioning jobs by state",
            jobs.clone(),
        );
        Metrics {
            registry: std::sync::Arc::new(registry),
            cycles,
            objects,
            requests,
            latency,
            jobs,
        }
    }
}

impl Metrics {
    pub(crate) fn cycle(&self, application: Uuid, kind: &str, outcome: &str) {
        self.cycles
            .get_or_create(&CycleLabels {
                application: application.to_string(),
                kind: kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub(crate) fn object(&self, application: Uuid, action: &str, status: &str) {
        self.objects
            .get_or_create(&ObjectLabels {
                application: application.to_string(),
                action: action.to_owned(),
                status: status.to_owned(),
            })
            .inc();
    }

    /// One SCIM request and its answer's status (`None`: no answer).
    pub(crate) fn request(&self, application: Uuid, status: Option<u16>, seconds: f64) {
        let application = application.to_string();
        self.requests
            .get_or_create(&RequestLabels {
                application: application.clone(),
                code: status.map_or_else(|| "error".to_owned(), |s| s.to_string()),
            })
            .inc();
        self.latency
            .get_or_create(&ApplicationLabels { application })
            .observe(seconds);
    }
}

impl Engine {
    /// Every metric in the OpenMetrics text format, the job states read now.
    pub async fn metrics_text(&self) -> Result<String> {
        let states: Vec<(String, i64)> =
            crate::db::query_as("SELECT state, COUNT(*) FROM provisioning_jobs GROUP BY state")
                .fetch_all(&self.db)
                .await?;
        for state in ["NotRun", "Active", "Paused", "Quarantine", "Disabled"] {
            let count = states
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            self.metrics
                .jobs
                .get_or_create(&StateLabels {
                    state: state.to_owned(),
                })
                .set(count);
        }
        let mut text = String::new();
        encode(&mut text, &self.metrics.registry)
            .map_err(|e| crate::Error::Io(std::io::Error::other(e)))?;
        Ok(text)
    }
}
