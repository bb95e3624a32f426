//! The scheduler's errors.

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("lost the leader lease {namespace}/{name}; stopping so that the new leader schedules alone")]
    LostLeadership { namespace: String, name: String },
}
