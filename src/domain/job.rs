//! Background jobs (ISS-5): their kinds and the states a job goes through.

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Generate,
    UploadCodes,
    BulkIssue,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Generate => "generate",
            JobKind::UploadCodes => "upload_codes",
            JobKind::BulkIssue => "bulk_issue",
        }
    }

    pub fn parse(raw: &str) -> Option<JobKind> {
        [JobKind::Generate, JobKind::UploadCodes, JobKind::BulkIssue]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            JobKind::Generate => "Generate codes",
            JobKind::UploadCodes => "Upload codes",
            JobKind::BulkIssue => "Bulk issue",
        }
    }
}

/// Where a job is: `Receiving` its upload, `Queued`, `Running` under a lease, then `Done` or
/// `Failed` (nothing applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Receiving,
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    const ALL: [JobStatus; 5] = [
        JobStatus::Receiving,
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Receiving => "receiving",
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<JobStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Done or failed: nothing more happens unless someone retries it.
    pub fn finished(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_round_trip_their_stored_names() {
        for (kind, stored) in [
            (JobKind::Generate, "generate"),
            (JobKind::UploadCodes, "upload_codes"),
            (JobKind::BulkIssue, "bulk_issue"),
        ] {
            assert_eq!(
                (kind.as_str(), JobKind::parse(stored)),
                (stored, Some(kind))
            );
        }
        let stored = ["receiving", "queued", "running", "done", "failed"];
        let finished: Vec<bool> = stored
            .iter()
            .map(|s| JobStatus::parse(s).unwrap().finished())
            .collect();
        assert_eq!(finished, [false, false, false, true, true]);
        assert_eq!(JobStatus::parse("paused"), None);
    }
}
