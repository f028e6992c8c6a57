//! Quanyu's HTTP edge: the `/api/v1` JSON API, authentication, the one error table, OpenAPI,
//! health and metrics.
//!
//! This crate owns everything that knows HTTP and JSON: request DTOs and their conversion into
//! the use cases' drafts, response DTOs, the `ApiError` table (stable codes, statuses and
//! messages in zh-CN and en), idempotency-key handling at the edge (fingerprinting the request),
//! session cookies and bearer tokens, the login rate limit, and the generated OpenAPI document.
//!
//! **Architecture invariant:** no SQL and no business rules here: handlers translate, call one
//! use case in `quanyu_app`, and translate back.

use std::net::SocketAddr;

use quanyu_app::App;

/// Options of the HTTP server.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// Mark the session cookie `Secure` (serve behind HTTPS).
    pub secure_cookies: bool,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions { secure_cookies: false }
    }
}

/// Builds the whole router: `/api/v1`, `/api/openapi.json`, `/api/docs`, `/healthz`, `/metrics`.
pub fn router(app: App, options: WebOptions) -> axum::Router {
    let _ = (app, options);
    axum::Router::new()
}

/// Serves `router` on `listener` until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
