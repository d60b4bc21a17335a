//! The running local stack, when a run targets it: its values through devstack's one reader
//! of `.devstack/env`.

/// A value of the running local stack's env file, if the stack is up and wrote it.
pub fn value(name: &str) -> Option<String> {
    devstack::stackenv::StackEnv::read()
        .ok()?
        .optional(name)
        .map(str::to_owned)
}

/// The API a run targets: the one given (`--host`, `API_URL`), else the running local stack's.
pub fn api_url(given: Option<String>) -> Result<String, String> {
    given.filter(|h| !h.is_empty()).or_else(|| value("API_URL")).ok_or_else(|| {
        "no --host, no API_URL and no local stack (.devstack/env): run `make up` or say which API"
            .to_owned()
    })
}
