//! Room in the log writer's queue, bounded in bytes in all and fair between streams: a line
//! first takes room in its own stream's share, then in the whole queue. A flooding stream
//! waits behind its own lines once its share is queued, so a quiet stream's line finds room at
//! once unless more streams than `QUEUE_BYTES / STREAM_SHARE` flood together (then each waits
//! its turn, first come, first served).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes of lines waiting for the writer in all.
pub const QUEUE_BYTES: usize = 32 << 20;
/// Bytes of one stream's lines that may wait for the writer.
pub const STREAM_SHARE: usize = 1 << 20;

/// The queue's room, in all and per stream.
#[derive(Clone)]
pub(super) struct Rooms {
    all: Arc<Semaphore>,
    streams: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    total: usize,
    share: usize,
}

/// Room one line holds until it is committed.
pub(super) struct Room {
    _stream: OwnedSemaphorePermit,
    _all: OwnedSemaphorePermit,
}

impl Rooms {
    /// `total` bytes in all, `share` per stream.
    pub(super) fn new(total: usize, share: usize) -> Self {
        Self {
            all: Arc::new(Semaphore::new(total)),
            streams: Arc::new(Mutex::new(HashMap::new())),
            total,
            share,
        }
    }

    /// Waits for room for `cost` bytes of `stream`; None once the writer has stopped.
    pub(super) async fn take(&self, stream: &str, cost: usize) -> Option<Room> {
        let in_stream = u32::try_from(cost.min(self.share)).ok()?;
        let in_all = u32::try_from(cost.min(self.total)).ok()?;
        let share = {
            let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
            streams
                .entry(stream.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.share)))
                .clone()
        };
        let stream = share.acquire_many_owned(in_stream).await.ok()?;
        let all = self.all.clone().acquire_many_owned(in_all).await.ok()?;
        Some(Room {
            _stream: stream,
            _all: all,
        })
    }

    /// Forgets the shares of streams with nothing queued (their semaphore held by the map alone).
    pub(super) fn forget_idle(&self) {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        streams.retain(|_, share| Arc::strong_count(share) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_flooding_stream_waits_behind_its_own_lines_and_a_quiet_one_does_not() {
        let rooms = Rooms::new(1000, 100);
        let mut flood = Vec::new();
        for _ in 0..10 {
            flood.push(rooms.take("runtime:flood", 10).await.expect("room"));
        }
        let blocked = tokio::time::timeout(Duration::from_millis(50), rooms.take("runtime:flood", 10)).await;
        assert!(blocked.is_err(), "the flood's share is full");
        let quiet = tokio::time::timeout(Duration::from_millis(50), rooms.take("runtime:quiet", 10)).await;
        assert!(quiet.is_ok_and(|r| r.is_some()), "a quiet stream finds room at once");
        rooms.forget_idle();
        assert_eq!(
            rooms.streams.lock().map(|s| s.len()).unwrap_or_default(),
            1,
            "the flood's is busy"
        );
        drop(flood.pop());
        assert!(
            rooms.take("runtime:flood", 10).await.is_some(),
            "room once a line is stored"
        );
        drop(flood);
        rooms.forget_idle();
        let left = rooms.streams.lock().map(|s| s.len()).unwrap_or_default();
        assert_eq!(left, 0, "idle streams are forgotten");
    }
}
