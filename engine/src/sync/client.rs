//! The SCIM client a job talks to its target with: one pooled keep-alive HTTP client, a cap on
//! requests in flight, an optional rate limit, and the retry rules of docs/engine.md, Client
//! retries: 429 and 503 wait for `Retry-After`; 500, 502, 504, resets and timeouts back off
//! exponentially with jitter. It accepts `application/scim+json` and `application/json`, PATCH
//! answered 200 or 204, and the quirks of docs/testing.md, Peers (member removal by value path).

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::log::ErrorCode;

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// What the target's `/ServiceProviderConfig` advertises that cycles use to go faster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The largest page a list answers (`filter.maxResults`).
    pub max_results: Option<usize>,
    /// `sortBy` works, so pages of a listing do not overlap.
    pub sort: bool,
    pub bulk: Option<BulkLimits>,
    /// `filter.supported` is false: accounts are matched by listing them, never by a filter
    /// query (docs/engine.md, Matching).
    pub filter_unsupported: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkLimits {
    pub max_operations: usize,
    pub max_payload_size: usize,
}

/// How a request to the target failed, in the terms the engine decides on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// 401 or 403: the credentials are refused (quarantine).
    #[error("the target refused the credentials (HTTP {status}): {detail}")]
    Unauthorized { status: u16, detail: String },
    /// 404 on a collection: not a SCIM endpoint (quarantine).
    #[error("the target has no {0} endpoint (HTTP 404): not a SCIM endpoint")]
    NoEndpoint(String),
    /// 409 on create: the object exists already.
    #[error("the target already has this object (HTTP 409): {0}")]
    Conflict(String),
    /// Another 4xx: the target refuses this request (a data problem).
    #[error("the target refused the request (HTTP {status}): {detail}")]
    Refused { status: u16, detail: String },
    /// 5xx, or a 429 or 503 that lasts, after the retries: try again later (escrow).
    #[error("the target is unavailable: {0}")]
    Unavailable(String),
    /// No answer at all after the retries (connection refused or reset, timeout, DNS, an
    /// address outbound requests may not use): the cycle stops (docs/engine.md, Quarantine).
    #[error("the target cannot be reached: {0}")]
    Unreachable(String),
}

impl ScimError {
    /// The code provisioning logs show.
    pub fn code(&self) -> ErrorCode {
        match self {
            ScimError::Unauthorized { .. } => ErrorCode::InvalidCredentials,
            ScimError::NoEndpoint(_) => ErrorCode::NotScimEndpoint,
            ScimError::Conflict(_) => ErrorCode::EntryConflict,
            ScimError::Refused { .. } => ErrorCode::TargetRefused,
            ScimError::Unavailable(_) => ErrorCode::TargetUnavailable,
            ScimError::Unreachable(_) => ErrorCode::TargetUnreachable,
        }
    }
}

/// Limits on how the client uses the target.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub concurrency: usize,
    /// Requests per second; 0 for no limit.
    pub rate: u32,
    pub retries: u32,
    /// The first backoff; it doubles at each retry.
    pub backoff: Duration,
    /// The longest `Retry-After` honoured; longer ones end the attempt (escrow).
    pub max_wait: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            concurrency: 4,
            rate: 0,
            retries: 5,
            backoff: Duration::from_millis(200),
            max_wait: Duration::from_secs(120),
        }
    }
}

/// The largest answer a target may give (a page of a listing, at its `maxResults`).
const MAX_ANSWER: usize = 32 * 1024 * 1024;
/// The largest error answer read for its `detail`.
const MAX_ERROR: usize = 64 * 1024;

pub struct ScimClient {
    http: reqwest::Client,
    /// Why requests to this base may not be sent at all (a private address, outbound.rs).
    refused: Option<String>,
    base: String,
    token: SecretString,
    in_flight: Semaphore,
    next_slot: Mutex<Instant>,
    limits: Limits,
    /// Where each request's status and latency are counted, for this application.
    metrics: Option<(crate::metrics::Metrics, uuid::Uuid)>,
    /// A moving average of the target's answer time, in microseconds; 0 before any answer.
    latency_us: AtomicU64,
}

impl ScimClient {
    pub fn new(
        outbound: &crate::outbound::Outbound,
        base: &str,
        token: SecretString,
        limits: Limits,
    ) -> ScimClient {
        let http = outbound
            .client()
            .pool_max_idle_per_host(limits.concurrency.max(1))
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client with these settings builds");
        ScimClient {
            http,
            refused: outbound.check(base).err(),
            base: base.trim().trim_end_matches('/').to_owned(),
            token,
            in_flight: Semaphore::new(limits.concurrency.max(1)),
            next_slot: Mutex::new(Instant::now()),
            limits,
            metrics: None,
            latency_us: AtomicU64::new(0),
        }
    }

    /// Requests in flight at once.
    pub fn concurrency(&self) -> usize {
        self.limits.concurrency.max(1)
    }

    /// About how many requests this client gets answered in a second, at its concurrency, its
    /// rate limit and the target's recent answer times; its concurrency before any answer.
    pub fn per_second(&self) -> usize {
        let latency = self.latency_us.load(Ordering::Relaxed);
        if latency == 0 {
            return self.concurrency();
        }
        let answered = self.concurrency() as u64 * 1_000_000 / latency;
        let paced = match self.limits.rate {
            0 => answered,
            rate => answered.min(rate.into()),
        };
        (paced as usize).max(1)
    }

    fn observe(&self, latency: Duration) {
        let sample = (latency.as_micros() as u64).max(1);
        // Lost updates between concurrent requests only make the average a little older.
        let average = match self.latency_us.load(Ordering::Relaxed) {
            0 => sample,
            old => (old * 4 + sample) / 5,
        };
        self.latency_us.store(average, Ordering::Relaxed);
    }

    /// Waits until the target accepts requests again (after a `Retry-After`) and for the rate
    /// limit's next slot.
    async fn pace(&self) {
        let wait = {
            let mut next = self
                .next_slot
                .lock()
                .expect("the rate limiter's lock is never poisoned");
            let now = Instant::now();
            let slot = (*next).max(now);
            if self.limits.rate > 0 {
                *next = slot + Duration::from_secs(1) / self.limits.rate;
            }
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Counts this client's requests in `metrics` under `application`.
    pub(crate) fn counted(
        mut self,
        metrics: crate::metrics::Metrics,
        application: uuid::Uuid,
    ) -> ScimClient {
        self.metrics = Some((metrics, application));
        self
    }

    /// Sends a request with the retry rules; returns the final status and body.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Value), ScimError> {
        if let Some(reason) = &self.refused {
            return Err(ScimError::Unreachable(reason.clone()));
        }
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| ScimError::Unavailable("the client is closed".into()))?;
        let url = format!("{}/{path}", self.base);
        let mut attempt = 0;
        loop {
            self.pace().await;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .query(query)
                .bearer_auth(self.token.expose_secret())
                .header("Accept", "application/scim+json, application/json");
            if let Some(body) = body {
                request = request
                    .header("Content-Type", "application/scim+json")
                    .body(body.to_string());
            }
            let sent = Instant::now();
            let outcome = request.send().await;
            if outcome.is_ok() {
                self.observe(sent.elapsed());
            }
            if let Some((metrics, application)) = &self.metrics {
                let status = outcome.as_ref().ok().map(|r| r.status().as_u16());
                metrics.request(*application, status, sent.elapsed().as_secs_f64());
            }
            let retry_in = match &outcome {
                Ok(response) if matches!(response.status().as_u16(), 429 | 503) => {
                    Some(retry_after(response).unwrap_or_else(|| self.backoff(attempt)))
                }
                Ok(response) if matches!(response.status().as_u16(), 500 | 502 | 504) => {
                    Some(self.backoff(attempt))
                }
                Ok(_) => None,
                Err(_) => Some(self.backoff(attempt)),
            };
            match retry_in {
                Some(wait) if attempt < self.limits.retries && wait <= self.limits.max_wait => {
                    attempt += 1;
                    if outcome
                        .as_ref()
                        .is_ok_and(|r| r.headers().contains_key("retry-after"))
                    {
                        // The target asked for a pause: no request of this client goes
                        // before it ends, not only this one.
                        self.hold_until(Instant::now() + wait);
                    }
                    tracing::debug!(%url, attempt, wait_ms = wait.as_millis() as u64, "retrying a SCIM request");
                    tokio::time::sleep(wait).await;
                }
                Some(_) => {
                    let response = match outcome {
                        Ok(response) => response,
                        Err(e) => {
                            return Err(ScimError::Unreachable(format!(
                                "{} after {attempt} retries",
                                describe(&e)
                            )));
                        }
                    };
                    return Err(ScimError::Unavailable({
                        let status = response.status().as_u16();
                        // The target's own explanation, when it gives one as a SCIM error.
                        let detail = crate::scim::error::read_body(response, MAX_ERROR)
                            .await
                            .and_then(|text| serde_json::from_str(&text).ok())
                            .and_then(|body: Value| crate::scim::error::detail_of(&body));
                        match detail {
                            Some(detail) => {
                                format!("HTTP {status} after {attempt} retries: {detail}")
                            }
                            None => format!("HTTP {status} after {attempt} retries"),
                        }
                    }));
                }
                None => {
                    let response = outcome.expect("errors always retry or fail above");
                    let status = response.status().as_u16();
                    let Some(text) = crate::scim::error::read_body(response, MAX_ANSWER).await
                    else {
                        return Err(ScimError::Unavailable(format!(
                            "the answer (HTTP {status}) was longer than {} MB or broke off",
                            MAX_ANSWER / (1024 * 1024)
                        )));
                    };
                    let json = if text.trim().is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_str(&text).unwrap_or(Value::String(text))
                    };
                    return Ok((status, json));
                }
            }
        }
    }

    fn hold_until(&self, until: Instant) {
        let mut next = self
            .next_slot
            .lock()
            .expect("the rate limiter's lock is never poisoned");
        *next = (*next).max(until);
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.limits.backoff * 2u32.saturating_pow(attempt.min(10));
        let jitter = rand::thread_rng().gen_range(0.5..1.5);
        base.mul_f64(jitter)
    }

    fn fail(&self, resource: &str, status: u16, body: &Value) -> ScimError {
        let detail = crate::scim::error::detail_of(body)
            .unwrap_or_else(|| "the answer is not a SCIM error".to_owned());
        match status {
            401 | 403 => ScimError::Unauthorized { status, detail },
            409 => ScimError::Conflict(detail),
            404 => ScimError::NoEndpoint(resource.to_owned()),
            s if s >= 500 => ScimError::Unavailable(format!("HTTP {s}: {detail}")),
            _ => ScimError::Refused { status, detail },
        }
    }

    /// The resources of `resource` (Users, Groups) whose `attribute` equals `value`.
    pub async fn find(
        &self,
        resource: &str,
        attribute: &str,
        value: &str,
    ) -> Result<Vec<Value>, ScimError> {
        let filter = format!(
            "{attribute} eq \"{}\"",
            value.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let (status, body) = self
            .send(reqwest::Method::GET, resource, &[("filter", &filter)], None)
            .await?;
        if status != 200 {
            return Err(self.fail(resource, status, &body));
        }
        Ok(body["Resources"].as_array().cloned().unwrap_or_default())
    }

    pub async fn create(&self, resource: &str, body: &Value) -> Result<Value, ScimError> {
        let (status, answer) = self
            .send(reqwest::Method::POST, resource, &[], Some(body))
            .await?;
        match status {
            200 | 201 => Ok(answer),
            _ => Err(self.fail(resource, status, &answer)),
        }
    }

    pub async fn get(&self, resource: &str, id: &str) -> Result<Option<Value>, ScimError> {
        let (status, body) = self
            .send(reqwest::Method::GET, &format!("{resource}/{id}"), &[], None)
            .await?;
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            _ => Err(self.fail(resource, status, &body)),
        }
    }

    /// PATCH with `operations`; 200 and 204 both mean done.
    pub async fn patch(
        &self,
        resource: &str,
        id: &str,
        operations: Vec<Value>,
    ) -> Result<(), ScimError> {
        let body = json!({ "schemas": [PATCH_OP], "Operations": operations });
        let (status, answer) = self
            .send(
                reqwest::Method::PATCH,
                &format!("{resource}/{id}"),
                &[],
                Some(&body),
            )
            .await?;
        match status {
            200 | 204 => Ok(()),
            404 => Err(ScimError::Refused {
                status,
                detail: format!("{resource}/{id} does not exist in the target"),
            }),
            _ => Err(self.fail(resource, status, &answer)),
        }
    }

    /// DELETE; an object already gone counts as deleted.
    pub async fn delete(&self, resource: &str, id: &str) -> Result<(), ScimError> {
        let (status, answer) = self
            .send(
                reqwest::Method::DELETE,
                &format!("{resource}/{id}"),
                &[],
                None,
            )
            .await?;
        match status {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.fail(resource, status, &answer)),
        }
    }
}

impl ScimClient {
    /// What the target advertises; nothing when it has no `/ServiceProviderConfig` or it cannot
    /// be read (the cycle then uses plain requests).
    pub async fn capabilities(&self) -> Capabilities {
        let config = match self
            .send(reqwest::Method::GET, "ServiceProviderConfig", &[], None)
            .await
        {
            Ok((200, config)) => config,
            _ => return Capabilities::default(),
        };
        let supported = |feature: &str| config[feature]["supported"].as_bool() == Some(true);
        let number = |feature: &str, field: &str| {
            config[feature][field]
                .as_u64()
                .filter(|n| *n > 0)
                .map(|n| n as usize)
        };
        Capabilities {
            max_results: number("filter", "maxResults"),
            sort: supported("sort"),
            bulk: supported("bulk")
                .then(|| {
                    Some(BulkLimits {
                        max_operations: number("bulk", "maxOperations")?,
                        max_payload_size: number("bulk", "maxPayloadSize")?,
                    })
                })
                .flatten(),
            filter_unsupported: config["filter"]["supported"].as_bool() == Some(false),
        }
    }

    /// The target's `/Schemas` list response.
    pub async fn schemas(&self) -> Result<Value, ScimError> {
        let (status, body) = self
            .send(reqwest::Method::GET, "Schemas", &[], None)
            .await?;
        match status {
            200 => Ok(body),
            _ => Err(self.fail("Schemas", status, &body)),
        }
    }

    /// One page of `resource` from `start_index` (1-based): the total and the resources.
    /// `sort` orders by id, so consecutive pages neither overlap nor skip.
    pub async fn page(
        &self,
        resource: &str,
        start_index: usize,
        count: usize,
        sort: bool,
    ) -> Result<(usize, Vec<Value>), ScimError> {
        let (start, count) = (start_index.to_string(), count.to_string());
        let mut query = vec![("startIndex", start.as_str()), ("count", count.as_str())];
        if sort {
            query.push(("sortBy", "id"));
        }
        if resource == "Groups" {
            // Members can be many; matching does not need them.
            query.push(("excludedAttributes", "members"));
        }
        let (status, body) = self
            .send(reqwest::Method::GET, resource, &query, None)
            .await?;
        if status != 200 {
            return Err(self.fail(resource, status, &body));
        }
        let total = body["totalResults"].as_u64().unwrap_or(0) as usize;
        Ok((
            total,
            body["Resources"].as_array().cloned().unwrap_or_default(),
        ))
    }

    /// Creates `bodies` in `resource` with one `/Bulk` request. `Ok` has one result per body, in
    /// order (a created resource has at least its `id`); `Err` means the Bulk request itself
    /// failed, and none of its results is known.
    pub async fn bulk_create(
        &self,
        resource: &str,
        bodies: &[&Value],
    ) -> Result<Vec<Result<Value, ScimError>>, ScimError> {
        let operations: Vec<Value> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| {
                json!({ "method": "POST", "path": format!("/{resource}"), "bulkId": i.to_string(), "data": body })
            })
            .collect();
        let request = json!({ "schemas": [BULK_REQUEST], "Operations": operations });
        let (status, answer) = self
            .send(reqwest::Method::POST, "Bulk", &[], Some(&request))
            .await?;
        if status != 200 {
            return Err(self.fail("Bulk", status, &answer));
        }
        let mut results: Vec<Result<Value, ScimError>> = bodies
            .iter()
            .map(|_| {
                Err(ScimError::Unavailable(
                    "the Bulk response left this operation out".into(),
                ))
            })
            .collect();
        for operation in answer["Operations"].as_array().into_iter().flatten() {
            let Some(slot) = operation["bulkId"]
                .as_str()
                .and_then(|id| id.parse::<usize>().ok())
                .and_then(|i| results.get_mut(i))
            else {
                continue;
            };
            // RFC 7644 writes the status as a string; some servers write a number.
            let status = match &operation["status"] {
                Value::String(s) => s.parse().unwrap_or(0),
                other => other.as_u64().unwrap_or(0) as u16,
            };
            *slot = match status {
                200 | 201 => {
                    let mut created = operation["response"].clone();
                    if created.get("id").is_none() {
                        // The id is the last segment of the location.
                        let id = operation["location"]
                            .as_str()
                            .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
                            .unwrap_or_default();
                        created = json!({ "id": id });
                    }
                    Ok(created)
                }
                _ => Err(self.fail(resource, status, &operation["response"])),
            };
        }
        Ok(results)
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate(value)?;
    let now = time::OffsetDateTime::now_utc();
    Some(Duration::try_from(at - now).unwrap_or_default())
}

fn httpdate(value: &str) -> Option<time::OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value, &format)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        "the connection failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_second_follows_the_answer_times_concurrency_and_rate() {
        let limits = Limits {
            concurrency: 4,
            ..Limits::default()
        };
        let client = ScimClient::new(
            &Default::default(),
            "http://127.0.0.1:9",
            "t".to_owned().into(),
            limits,
        );
        assert_eq!(client.per_second(), 4, "before any answer: the concurrency");
        client.observe(Duration::from_millis(10));
        assert_eq!(client.per_second(), 400);
        // A slower answer moves the average a fifth of the way: (10 ms * 4 + 60 ms) / 5 = 20 ms.
        client.observe(Duration::from_millis(60));
        assert_eq!(client.per_second(), 200);

        let paced = ScimClient::new(
            &Default::default(),
            "http://127.0.0.1:9",
            "t".to_owned().into(),
            Limits { rate: 50, ..limits },
        );
        paced.observe(Duration::from_millis(10));
        assert_eq!(paced.per_second(), 50);
        let slow = ScimClient::new(
            &Default::default(),
            "http://127.0.0.1:9",
            "t".to_owned().into(),
            Limits {
                concurrency: 1,
                ..limits
            },
        );
        slow.observe(Duration::from_secs(3));
        assert_eq!(slow.per_second(), 1, "never below one");
    }
}
