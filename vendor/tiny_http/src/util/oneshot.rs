//! openbb-files patch: a channel that carries one value, for handing a connection's reader and
//! writer from one request to the next (`sequential.rs`). Upstream used a std `mpsc` channel
//! per hand-over, two per request: each allocated and zeroed a block of 31 slots and an
//! aligned counter. This is one small allocation. Same meaning as `mpsc` for one value: `recv`
//! blocks until the value is sent, and fails once the sender is gone without sending (or the
//! value was already received); `send` fails once the receiver is gone.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

enum State<T> {
    /// Nothing sent yet; `true` while the receiver is blocked in `recv` (only then does a
    /// send or a drop wake it: a futex call per hand-over saved).
    Waiting(bool),
    Sent(T),
    /// The value was received, or will never be: one side is gone.
    Closed,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub struct Sender<T>(Arc<Shared<T>>);

pub struct Receiver<T>(Arc<Shared<T>>);

/// The receiving side's error: no value will come.
#[derive(Debug)]
pub struct RecvError;

pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::Waiting(false)),
        changed: Condvar::new(),
    });
    (Sender(Arc::clone(&shared)), Receiver(shared))
}

impl<T> Sender<T> {
    /// Hands `value` over; gives it back when it cannot be received any more (or a value
    /// was sent already).
    pub fn send(&self, value: T) -> Result<(), T> {
        let mut state = self.0.lock();
        let State::Waiting(blocked) = *state else {
            return Err(value);
        };
        if Arc::strong_count(&self.0) == 1 {
            return Err(value);
        }
        *state = State::Sent(value);
        if blocked {
            self.0.changed.notify_one();
        }
        Ok(())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        if let State::Waiting(blocked) = *state {
            *state = State::Closed;
            if blocked {
                self.0.changed.notify_one();
            }
        }
    }
}

impl<T> Receiver<T> {
    /// Blocks until the value is sent; an error when it never will be.
    pub fn recv(&self) -> Result<T, RecvError> {
        let mut state = self.0.lock();
        loop {
            match std::mem::replace(&mut *state, State::Closed) {
                State::Sent(value) => return Ok(value),
                State::Closed => return Err(RecvError),
                State::Waiting(_) => {
                    *state = State::Waiting(true);
                    state = self
                        .0
                        .changed
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            }
        }
    }
}

impl<T> Receiver<T> {
    /// The value if it has been sent, without waiting; `Ok(None)` while it has not.
    pub fn try_recv(&self) -> Result<Option<T>, RecvError> {
        let mut state = self.0.lock();
        match std::mem::replace(&mut *state, State::Closed) {
            State::Sent(value) => Ok(Some(value)),
            State::Closed => Err(RecvError),
            waiting @ State::Waiting(_) => {
                *state = waiting;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::Duration;

    #[test]
    fn a_value_crosses_threads() {
        let (sender, receiver) = channel();
        let waiting = thread::spawn(move || receiver.recv());
        thread::sleep(Duration::from_millis(20));
        sender.send(7).unwrap();
        assert_eq!(waiting.join().unwrap().unwrap(), 7);
    }

    #[test]
    fn one_value_only() {
        let (sender, receiver) = channel();
        sender.send(1).unwrap();
        assert_eq!(sender.send(2), Err(2));
        assert_eq!(receiver.recv().unwrap(), 1);
        assert!(receiver.recv().is_err());
    }

    #[test]
    fn a_sender_gone_without_sending_wakes_the_receiver() {
        let (sender, receiver) = channel::<u8>();
        let waiting = thread::spawn(move || receiver.recv());
        thread::sleep(Duration::from_millis(20));
        drop(sender);
        assert!(waiting.join().unwrap().is_err());
    }

    #[test]
    fn try_recv_does_not_wait() {
        let (sender, receiver) = channel();
        assert!(matches!(receiver.try_recv(), Ok(None)));
        sender.send(5).unwrap();
        assert!(matches!(receiver.try_recv(), Ok(Some(5))));
        assert!(receiver.try_recv().is_err());
    }

    #[test]
    fn sending_to_a_receiver_gone_fails() {
        let (sender, receiver) = channel();
        drop(receiver);
        assert_eq!(sender.send(3), Err(3));
    }
}
