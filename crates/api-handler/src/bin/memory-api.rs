//! The API router alone, served over HTTP with every port in memory (`make load-router`): what
//! the function's own request handling costs and how far it scales, with no AWS behind it, so
//! that it is never mistaken for the bottleneck of the whole stack.
//!
//! `memory-api [ADDR]` (default `127.0.0.1:3900`).

use api_handler::wiring::Ports;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3900".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("memory-api: the API router with in-memory ports on http://{addr}");
    // Built once and cloned per request, as the function does.
    axum::serve(
        listener,
        api_handler::router(api_handler::Services::in_memory(&Ports::default())),
    )
    .await
}
