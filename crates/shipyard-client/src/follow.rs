//! Following one of the API's event streams (build, runtime or access logs) to its end,
//! across dropped connections: a reconnect sends `Last-Event-ID`, so no line is lost or repeated.

use crate::{Client, ClientError};
use eventsource_stream::Eventsource;
use futures_util::stream::{BoxStream, StreamExt};
use serde_json::Value;
use std::time::Duration;

/// Reconnects in a row, with no frame between them, after which the stream is given up.
const MOST_DROPS: u32 = 10;

type Events = BoxStream<'static, Result<eventsource_stream::Event, String>>;

/// A followed stream: `next` yields its JSON frames until the `done` frame.
pub struct Follow {
    client: Client,
    path: String,
    last_id: Option<String>,
    events: Option<Events>,
    finished: bool,
}

impl Follow {
    /// Follows `path` (an SSE route of the API) from its beginning.
    pub fn new(client: &Client, path: impl Into<String>) -> Self {
        Self {
            client: client.clone(),
            path: path.into(),
            last_id: None,
            events: None,
            finished: false,
        }
    }

    /// The next frame, `None` after the `done` frame. A connection that drops is opened again
    /// (bounded: `MOST_DROPS` in a row with no frame between them); an error answer is returned.
    pub async fn next(&mut self) -> Result<Option<Value>, ClientError> {
        let mut in_a_row = 0;
        loop {
            if self.finished {
                return Ok(None);
            }
            let events = match self.events.as_mut() {
                Some(events) => events,
                None => match self.open().await {
                    Ok(events) => self.events.insert(events),
                    Err(ClientError::Http(e)) => {
                        in_a_row += 1;
                        if in_a_row > MOST_DROPS {
                            return Err(ClientError::Http(e));
                        }
                        pause(in_a_row).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            match events.next().await {
                Some(Ok(event)) if !event.data.is_empty() => {
                    let frame: Value = serde_json::from_str(&event.data)
                        .map_err(|e| ClientError::Unexpected(format!("an event that is not JSON: {e}")))?;
                    if !event.id.is_empty() {
                        self.last_id = Some(event.id);
                    }
                    self.finished = frame["type"] == "done";
                    return Ok(Some(frame));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    self.events = None;
                    in_a_row += 1;
                    if in_a_row > MOST_DROPS {
                        return Err(ClientError::Unexpected(format!(
                            "the stream {} dropped {MOST_DROPS} times in a row",
                            self.path
                        )));
                    }
                    pause(in_a_row).await;
                }
            }
        }
    }

    async fn open(&self) -> Result<Events, ClientError> {
        let mut request = self.client.request(reqwest::Method::GET, &self.path);
        if let Some(id) = &self.last_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let bytes = response.bytes().await?;
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            return Err(crate::api_error(status, &body));
        }
        Ok(response
            .bytes_stream()
            .eventsource()
            .map(|item| item.map_err(|e| e.to_string()))
            .boxed())
    }
}

/// Waits a little longer after each failed attempt (at most 2 s).
async fn pause(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(10)) * 200)).await;
}
