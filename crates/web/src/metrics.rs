//! Prometheus metrics: a recorder installed once per process, and a middleware that counts
//! requests and times them by route template (never by raw path, which would explode labels).

use std::{
    cell::RefCell,
    collections::HashMap,
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide recorder's handle, installing the recorder on first use. When another
/// recorder is already installed (a host application), a detached one is used instead.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics shows a detached registry");
            }
            handle
        })
        .clone()
}

pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    record(&method, route, response.status().as_u16(), started.elapsed());
    response
}

/// One labelled series' handles.
struct Series {
    method: Method,
    status: u16,
    requests: Counter,
    seconds: Histogram,
}

thread_local! {
    /// This thread's handles, by route and then by method and status. Looking a series up in the
    /// recorder builds its labels and hashes them under the registry's lock; a request served
    /// here does that once per series and thread, not twice per request.
    static SERIES: RefCell<HashMap<Box<str>, Vec<Series>>> = RefCell::default();
}

fn record(method: &Method, route: &str, status: u16, took: Duration) {
    SERIES.with_borrow_mut(|by_route| {
        let of_route = match by_route.get_mut(route) {
            Some(of_route) => of_route,
            None => by_route.entry(route.into()).or_default(),
        };
        let index = match of_route.iter().position(|s| s.status == status && s.method == *method) {
            Some(index) => index,
            None => {
                let labels = [
                    ("method", method.as_str().to_owned()),
                    ("route", route.to_owned()),
                    ("status", status.to_string()),
                ];
                of_route.push(Series {
                    method: method.clone(),
                    status,
                    requests: metrics::counter!("http_requests_total", &labels),
                    seconds: metrics::histogram!("http_request_duration_seconds", &labels),
                });
                of_route.len() - 1
            }
        };
        let series = &of_route[index];
        series.requests.increment(1);
        series.seconds.record(took.as_secs_f64());
    });
}
