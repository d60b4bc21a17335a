//! The commands that work on a running stack: seed, reset, report, token.

use devstack::stackenv::state_dir;
use devstack::user_pool::{UserPool, VALID_FOR};
use devstack::{DevError, Result, Topology, report, seed, with_stack};

/// `seed`: writes the reference data that is missing.
pub async fn seed() -> Result<()> {
    with_stack(|sdk, r, _| async move {
        let report = seed::seed(
            &aws_sdk_dynamodb::Client::new(&sdk),
            &Topology::system()?,
            &r,
        )
        .await?;
        println!(
            "seed: {} items written, {} already present",
            report.written, report.already_present
        );
        Ok(())
    })
    .await
}

/// `reset`: empties the queues, restores the reference data, clears processing state and the
/// notifications received.
pub async fn reset() -> Result<()> {
    with_stack(|sdk, r, env| async move {
        let topology = Topology::system()?;
        // Queues first: a message still on its way would write state into the cleared tables.
        seed::empty_queues(&aws_sdk_sqs::Client::new(&sdk), &r).await?;
        let report = seed::reset(&aws_sdk_dynamodb::Client::new(&sdk), &topology, &r).await?;
        let notify = env.get("NOTIFY_URL")?;
        reqwest::Client::new()
            .delete(format!("{notify}/v1/notify"))
            .send()
            .await?;
        println!(
            "reset: reference data restored ({} items), processing state cleared",
            report.written
        );
        Ok(())
    })
    .await
}

/// `report [--all]`: the running stack's tables (a screenful each, or every row), notifications
/// and dead letters.
pub async fn report(all: bool) -> Result<()> {
    let rows = if all { usize::MAX } else { report::SCREENFUL };
    with_stack(|sdk, r, env| async move {
        let notify = env.get("NOTIFY_URL")?;
        let topology = Topology::system()?;
        let snapshot = report::snapshot(&sdk, &topology, &r, &notify).await?;
        print!("{}", report::render_at_most(&snapshot, rows));
        Ok(())
    })
    .await
}

/// `token USER_ID`: an ID token of the running stack's user pool for the app user `USER_ID`.
pub fn token(user_id: &str) -> Result<()> {
    if domain::ids::UserId::parse(user_id).is_err() {
        return Err(DevError::Setup(format!(
            "{user_id:?} is not a user id (1 to 128 characters, no spaces)"
        )));
    }
    let pool = UserPool::load(&state_dir())?;
    println!(
        "{}",
        pool.token(user_id, chrono::Utc::now().timestamp(), VALID_FOR)?
    );
    Ok(())
}
