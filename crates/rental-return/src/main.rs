// The SDK's and the runtime's nested futures exceed the default limit when laid out here.
#![recursion_limit = "256"]

// One thread: an instance handles one event at a time, and below 1,769 MB Lambda gives it less
// than one vCPU; a multi-threaded runtime would only hand each I/O wake-up between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    queue_processor::function(env!("CARGO_BIN_NAME"))?
        .serve()
        .await
}
