//! The running local stack, when a run targets it: its values through devstack's one reader
//! of `.devstack/env`.

/// A value of the running local stack's env file, if the stack is up and wrote it.
pub fn value(name: &str) -> Option<String> {
    devstack::stackenv::StackEnv::read()
        .ok()?
        .optional(name)
        .map(str::to_owned)
}
