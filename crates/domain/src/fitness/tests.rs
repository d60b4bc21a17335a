//! The flow's rules end to end through the in-memory ports: what the consumer writes for a
//! stream of events, and what the timer does.

use super::memory::{InMemoryFitness, InMemoryTimer};
use super::ports::{FitnessStore, FitnessView};
use super::*;
use crate::events::{Delivery, DomainEvent, EventHandler};
use crate::ids::UserId;
use crate::time::parse_event_time;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::cell::Cell;
use std::sync::Arc;

thread_local! {
    static NOW: Cell<i64> = const { Cell::new(0) };
}

/// The tests' wall clock (each tokio test runs on its own thread).
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(NOW.with(Cell::get)).unwrap_or_default()
}

fn set_now(at: &str) {
    NOW.with(|n| n.set(t(at).timestamp_millis()));
}

fn t(s: &str) -> DateTime<Utc> {
    parse_event_time(s).unwrap()
}

const ONCE: Delivery = Delivery {
    receive_count: 1,
    max_receives: 3,
};

struct Flow {
    store: Arc<InMemoryFitness>,
    timer: Arc<InMemoryTimer>,
    consume: ConsumeAppEvents,
    fire: FireNudge,
}

impl Flow {
    fn new(window_secs: i64) -> Self {
        set_now("2026-12-01T09:00:00Z");
        let store = Arc::new(InMemoryFitness::default());
        let timer = Arc::new(InMemoryTimer::default());
        let fitness = Fitness {
            store: store.clone(),
            timer: timer.clone(),
            window: Duration::seconds(window_secs),
            clock: now,
        };
        Self {
            store,
            timer,
            consume: ConsumeAppEvents {
                fitness: fitness.clone(),
                types: Arc::new(event_types()),
            },
            fire: FireNudge(fitness),
        }
    }

    async fn send(&self, body: Value) {
        let e = AppEvent::from_json(&body, &event_types()).unwrap();
        let envelope =
            DomainEvent::new(&e, e.event_id.as_str(), e.user_id.as_str(), now()).unwrap();
        self.consume.handle(e, &envelope, ONCE).await.unwrap();
    }

    /// Delivers every timer set so far, at the current wall clock.
    async fn fire_timers(&self) {
        for (check, _) in self.timer.scheduled() {
            let envelope = check.outbound(now()).unwrap().event;
            self.fire.handle(check, &envelope, ONCE).await.unwrap();
        }
    }

    /// What users were told so far, as `kind user detail`.
    fn told(&self) -> Vec<String> {
        self.store
            .events()
            .iter()
            .map(|e| {
                if let Ok(c) = e.decode::<TrainingCongratulated>() {
                    format!("congratulate {} {}", c.user_id, c.minutes)
                } else if let Ok(n) = e.decode::<TrainingNudged>() {
                    format!("nudge {} {:?}", n.user_id, n.settled_by)
                } else {
                    format!("other {}", e.event_type)
                }
            })
            .collect()
    }
}

fn legacy(user: &str, kind: &str, at: &str) -> Value {
    json!({"user_id": user, "device_id": "d", "type": kind, "training_program_id": "2352",
           "time_stamp": at})
}

fn sample_stream() -> Vec<Value> {
    vec![
        legacy("foo2", "app_launch", "2021-02-28 16:22:52"),
        json!({"user_id": "foo1", "device_id": "bar1", "type": "training_program_started",
               "training_program_id": "2352", "training_program_title": "7 Minutes of HIIT Training",
               "time_stamp": "2021-02-28 16:23:25"}),
        legacy("foo2", "training_program_started", "2021-02-28 16:52:00"),
        legacy("foo2", "training_program_cancelled", "2021-02-28 16:54:21"),
        legacy("foo1", "training_program_finished", "2021-02-28 16:59:43"),
    ]
}

#[tokio::test]
async fn the_sample_stream_replayed_today_gives_exactly_its_two_notifications() {
    let flow = Flow::new(600);
    for e in sample_stream() {
        flow.send(e).await;
    }
    assert_eq!(
        flow.told(),
        ["nudge foo2 Event", "congratulate foo1 36"],
        "decided by event time, before any timer"
    );
    set_now("2026-12-01T10:00:00Z");
    flow.fire_timers().await;
    assert_eq!(flow.told().len(), 2, "the launch's timer finds it settled");
    // Every event delivered again (a new message each time, past the queue's de-duplication).
    for e in sample_stream() {
        flow.send(e).await;
    }
    flow.fire_timers().await;
    assert_eq!(flow.told().len(), 2, "duplicates have no effect");
    let foo1 = flow
        .store
        .activity(&UserId::parse("foo1").unwrap())
        .await
        .unwrap();
    assert_eq!(foo1.sessions.len(), 1);
    assert_eq!(foo1.sessions[0].minutes, Some(36));
    let foo2 = flow
        .store
        .activity(&UserId::parse("foo2").unwrap())
        .await
        .unwrap();
    assert_eq!(foo2.launches[0].nudge, NudgeState::Sent);
    assert_eq!(foo2.sessions[0].state, SessionState::Cancelled);
}

#[tokio::test]
async fn a_replayed_start_just_behind_its_launch_cancels_although_every_window_is_past() {
    let flow = Flow::new(600);
    flow.send(legacy("u", "app_launch", "2021-02-28 16:00:00"))
        .await;
    flow.send(legacy(
        "u",
        "training_program_started",
        "2021-02-28 16:00:00",
    ))
    .await;
    set_now("2026-12-01T09:10:00Z");
    flow.fire_timers().await;
    assert!(flow.told().is_empty(), "{:?}", flow.told());
}

#[tokio::test]
async fn a_lone_launch_is_nudged_by_its_timer_once_and_not_before_the_window() {
    let flow = Flow::new(15);
    flow.send(
        json!({"schema_version": 2, "event_id": "l-1", "user_id": "u",
                     "type": "app_launch", "time": "2026-12-01T09:00:00Z"}),
    )
    .await;
    let scheduled = flow.timer.scheduled();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].1, std::time::Duration::from_secs(15));
    set_now("2026-12-01T09:00:14Z");
    flow.fire_timers().await;
    assert!(
        flow.told().is_empty(),
        "a timer delivered early sets itself again"
    );
    assert_eq!(
        flow.timer.scheduled().last().map(|(_, d)| *d),
        Some(std::time::Duration::from_secs(1))
    );
    set_now("2026-12-01T09:00:15Z");
    flow.fire_timers().await;
    flow.fire_timers().await;
    assert_eq!(flow.told(), ["nudge u Timer"]);
    // A start after the nudge does not take it back.
    flow.send(
        json!({"schema_version": 2, "event_id": "s-1", "user_id": "u",
                     "type": "training_program_started", "time": "2026-12-01T09:00:10Z",
                     "payload": {"training_program_id": "1"}}),
    )
    .await;
    assert_eq!(flow.told(), ["nudge u Timer"]);
}

#[tokio::test]
async fn a_timer_over_fifteen_minutes_is_set_again_for_what_is_left() {
    let flow = Flow::new(3600);
    flow.send(legacy("u", "app_launch", "2026-12-01 09:00:00"))
        .await;
    set_now("2026-12-01T09:15:00Z");
    flow.fire_timers().await;
    assert!(flow.told().is_empty());
    assert_eq!(
        flow.timer.scheduled().last().map(|(_, d)| *d),
        Some(std::time::Duration::from_secs(45 * 60))
    );
}

#[tokio::test]
async fn a_start_at_the_window_edge_cancels_and_the_timer_finds_it_settled() {
    let flow = Flow::new(600);
    flow.send(legacy("u", "app_launch", "2026-12-01 09:00:00"))
        .await;
    flow.send(legacy(
        "u",
        "training_program_started",
        "2026-12-01 09:10:00",
    ))
    .await;
    set_now("2026-12-01T09:11:00Z");
    flow.fire_timers().await;
    assert!(flow.told().is_empty());
    let a = flow
        .store
        .activity(&UserId::parse("u").unwrap())
        .await
        .unwrap();
    assert_eq!(a.launches[0].nudge, NudgeState::Cancelled);
    assert_eq!(a.launches[0].settled_by, Some(SettledBy::Event));
}

#[tokio::test]
async fn a_timer_and_a_start_settling_at_once_cannot_both_win() {
    let flow = Flow::new(600);
    flow.send(legacy("u", "app_launch", "2026-12-01 09:00:00"))
        .await;
    let user = UserId::parse("u").unwrap();
    let seen_by_timer = flow.store.pending_launches(&user).await.unwrap().remove(0);
    flow.send(legacy(
        "u",
        "training_program_started",
        "2026-12-01 09:05:00",
    ))
    .await;
    let won = settle(
        &flow.fire.0,
        &seen_by_timer,
        NudgeState::Sent,
        SettledBy::Timer,
    )
    .await
    .unwrap();
    assert!(
        !won,
        "the timer read the launch pending, but the start settled it first"
    );
    assert!(flow.told().is_empty());
}

#[tokio::test]
async fn two_launches_in_a_row() {
    let flow = Flow::new(600);
    flow.send(legacy("u", "app_launch", "2026-12-01 09:00:00"))
        .await;
    flow.send(legacy("u", "app_launch", "2026-12-01 09:05:00"))
        .await;
    assert!(
        flow.told().is_empty(),
        "the second launch is inside the first window"
    );
    flow.send(legacy("u", "app_launch", "2026-12-01 09:20:00"))
        .await;
    assert_eq!(
        flow.told(),
        ["nudge u Event", "nudge u Event"],
        "the third shows both windows passed"
    );
    flow.send(legacy(
        "u",
        "training_program_started",
        "2026-12-01 09:21:00",
    ))
    .await;
    let a = flow
        .store
        .activity(&UserId::parse("u").unwrap())
        .await
        .unwrap();
    let states: Vec<NudgeState> = a.launches.iter().map(|l| l.nudge).collect();
    assert_eq!(
        states,
        [NudgeState::Sent, NudgeState::Sent, NudgeState::Cancelled]
    );
}

#[tokio::test]
async fn sessions_congratulate_only_a_finish_of_a_running_program_over_thirty_minutes() {
    let flow = Flow::new(600);
    flow.send(legacy(
        "a",
        "training_program_finished",
        "2026-12-01 09:00:00",
    ))
    .await;
    flow.send(legacy(
        "b",
        "training_program_started",
        "2026-12-01 09:00:00",
    ))
    .await;
    flow.send(legacy(
        "b",
        "training_program_cancelled",
        "2026-12-01 09:10:00",
    ))
    .await;
    flow.send(legacy(
        "b",
        "training_program_finished",
        "2026-12-01 09:45:00",
    ))
    .await;
    flow.send(legacy(
        "c",
        "training_program_started",
        "2026-12-01 09:00:00",
    ))
    .await;
    flow.send(legacy(
        "c",
        "training_program_finished",
        "2026-12-01 09:30:00",
    ))
    .await;
    flow.send(legacy(
        "d",
        "training_program_started",
        "2026-12-01 09:00:00",
    ))
    .await;
    flow.send(legacy(
        "d",
        "training_program_finished",
        "2026-12-01 09:30:59",
    ))
    .await;
    flow.send(legacy(
        "d",
        "training_program_finished",
        "2026-12-01 09:40:00",
    ))
    .await;
    assert_eq!(flow.told(), ["congratulate d 30"]);
}

#[tokio::test]
async fn unknown_types_are_kept_and_counted_once_per_event() {
    let flow = Flow::new(600);
    let paused = legacy("u", "training_program_paused", "2026-12-01 09:00:00");
    flow.send(paused.clone()).await;
    flow.send(paused).await;
    flow.send(
        json!({"schema_version": 2, "event_id": "b-1", "user_id": "u",
                     "type": "badge_earned", "time": "2026-12-01T09:01:00Z"}),
    )
    .await;
    let a = flow
        .store
        .activity(&UserId::parse("u").unwrap())
        .await
        .unwrap();
    assert_eq!(
        a.unknown_event_types,
        [
            ("badge_earned".to_owned(), 1),
            ("training_program_paused".to_owned(), 1)
        ]
        .into()
    );
    assert_eq!(flow.store.unknown_type_counts().await.unwrap().len(), 2);
    assert!(flow.told().is_empty());
}

#[test]
fn the_catalogue_names_each_type_once() {
    let names: Vec<&str> = event_types().names().collect();
    assert_eq!(
        names,
        [
            "app_launch",
            "training_program_cancelled",
            "training_program_finished",
            "training_program_started"
        ]
    );
    assert!(event_types().starts_training("training_program_started"));
    assert!(!event_types().starts_training("app_launch"));
}

/// The recipe in docs/adding-a-flow.md: a payload, its handler and one registration line make
/// a type known to the edge and handled by the consumer.
mod a_new_type {
    use super::*;
    use crate::PortError;
    use crate::fitness::ProgramId;
    use crate::validation::Problems;
    use async_trait::async_trait;
    use serde::{Deserialize, Serialize};
    use serde_json::Map;
    use std::sync::Mutex;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ProgramPaused {
        pub training_program_id: ProgramId,
    }

    impl AppPayload for ProgramPaused {
        const TYPE: &'static str = "training_program_paused";
        fn read(p: &mut Problems, fields: &Map<String, Value>) -> Option<Self> {
            match fields.get("training_program_id").and_then(Value::as_str) {
                Some(id) => ProgramId::parse(id).ok().map(|training_program_id| Self {
                    training_program_id,
                }),
                None => {
                    p.add_at(
                        "training_program_id",
                        crate::FieldCode::MISSING_FIELD,
                        "required",
                    );
                    None
                }
            }
        }
    }

    static PAUSED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    pub struct NotePause;

    #[async_trait]
    impl Handle<ProgramPaused> for NotePause {
        async fn handle(
            &self,
            _: &Fitness,
            e: &AppEvent,
            p: ProgramPaused,
        ) -> Result<(), PortError> {
            PAUSED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{} {}", e.user_id, p.training_program_id));
            Ok(())
        }
    }

    #[tokio::test]
    async fn is_a_payload_a_handler_and_one_registration_line() {
        let types = event_types().on::<ProgramPaused>(NotePause);
        let body = legacy("u", "training_program_paused", "2026-12-01 09:00:00");
        let e = AppEvent::from_json(&body, &types).unwrap();
        assert_eq!(e.raw, None, "known now: no raw body kept");
        let missing = json!({"user_id": "u", "type": "training_program_paused",
                             "time_stamp": "2026-12-01 09:00:00"});
        assert!(
            AppEvent::from_json(&missing, &types).is_err(),
            "its payload is read at the edge"
        );
        let flow = Flow::new(600);
        types.handle(&flow.consume.fitness, &e).await.unwrap();
        assert_eq!(*PAUSED.lock().unwrap(), ["u 2352"]);
        assert!(
            flow.store.unknown_type_counts().await.unwrap().is_empty(),
            "not counted as unknown"
        );
    }
}
