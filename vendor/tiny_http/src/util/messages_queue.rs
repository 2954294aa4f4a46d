//! The queue between the connection threads (which push requests) and the threads answering
//! them (which pop).
//!
//! openbb-files patch: upstream woke a sleeping thread on every push. With a pool larger than
//! the number of cores that costs a thread switch per request: the request goes to a cold
//! thread while the one that just answered goes to sleep. Here the threads that pop as
//! registered workers ([`MessagesQueue::register`], [`MessagesQueue::pop_as`]) are busy from
//! taking a message until they ask for the next one, and a push wakes a sleeper only while
//! fewer than `concurrency` workers are busy (for less than [`STUCK_AFTER`]) or being woken.
//! Otherwise the message waits for the next busy worker to come back, which under load is a
//! matter of microseconds. A worker busy for longer than [`STUCK_AFTER`] (a slow disk, a
//! client that does not read) no longer counts; and so that a message pushed before that
//! cannot wait behind it, one sleeper at a time is the standby: while workers are busy it
//! wakes every [`STUCK_AFTER`] and takes the oldest message when the busy workers count as
//! stuck. Unregistered callers ([`MessagesQueue::pop`] and the others) are never counted.
//! Invariants (under the lock): `waking <= sleeping`; `standby` is true only while that
//! sleeper waits; `busy_since[w]` is set exactly while worker `w` holds a message.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a busy worker counts against the concurrency, and how often the standby looks.
pub const STUCK_AFTER: Duration = Duration::from_millis(2);

enum Control<T> {
    Elem(T),
    Unblock,
}

pub struct MessagesQueue<T>
where
    T: Send,
{
    state: Mutex<State<T>>,
    condvar: Condvar,
}

struct State<T> {
    queue: VecDeque<Control<T>>,
    /// Per registered worker: since when it holds a message.
    busy_since: Vec<Option<Instant>>,
    /// Threads inside a wait on the condvar.
    sleeping: usize,
    /// Notifications sent that no sleeper has woken up for yet.
    waking: usize,
    /// Whether one sleeper is waiting with a timeout to catch stalled work.
    standby: bool,
    /// Busy-or-waking workers beyond which a push wakes nobody.
    concurrency: usize,
    /// [`STUCK_AFTER`], except in tests.
    stuck_after: Duration,
}

impl<T> State<T> {
    /// Workers busy for less than [`STUCK_AFTER`], and whether any worker is busy at all.
    fn busy(&self) -> (usize, bool) {
        let now = Instant::now();
        let mut any = false;
        let fresh = self
            .busy_since
            .iter()
            .flatten()
            .inspect(|_| any = true)
            .filter(|since| now.duration_since(**since) < self.stuck_after)
            .count();
        (fresh, any)
    }
}

impl<T> MessagesQueue<T>
where
    T: Send,
{
    pub fn with_capacity(capacity: usize) -> Arc<MessagesQueue<T>> {
        Arc::new(MessagesQueue {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(capacity),
                busy_since: Vec::new(),
                sleeping: 0,
                waking: 0,
                standby: false,
                concurrency: usize::MAX,
                stuck_after: STUCK_AFTER,
            }),
            condvar: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets how many workers may be busy or waking before a push stops waking sleepers
    /// (at least 1). Until it is set, every push wakes one, as upstream.
    pub fn set_concurrency(&self, workers: usize) {
        self.lock().concurrency = workers.max(1);
    }

    /// A new worker's number, for [`MessagesQueue::pop_as`] and [`MessagesQueue::release`].
    pub fn register(&self) -> usize {
        let mut state = self.lock();
        state.busy_since.push(None);
        state.busy_since.len() - 1
    }

    /// Marks `worker` as holding no message (it is leaving, or its message is done).
    pub fn release(&self, worker: usize) {
        self.lock().busy_since[worker] = None;
    }

    /// Pushes an element to the queue.
    pub fn push(&self, value: T) {
        let mut state = self.lock();
        state.queue.push_back(Control::Elem(value));
        if state.sleeping == state.waking {
            return;
        }
        // Without a standby nobody would catch a message stuck behind busy workers: wake one.
        if !state.standby || state.busy().0 + state.waking < state.concurrency {
            state.waking += 1;
            self.condvar.notify_one();
        }
    }

    /// Unblock one thread stuck in pop loop.
    pub fn unblock(&self) {
        let mut state = self.lock();
        state.queue.push_back(Control::Unblock);
        if state.sleeping > state.waking {
            state.waking += 1;
        }
        self.condvar.notify_one();
    }

    /// Pops an element. Blocks until one is available.
    /// Returns None in case unblock() was issued.
    pub fn pop(&self) -> Option<T> {
        self.pop_for(None)
    }

    /// Pops an element for `worker`, whose previous element is then done; the worker counts
    /// as busy until it pops again or is released. Blocks; None after unblock().
    pub fn pop_as(&self, worker: usize) -> Option<T> {
        self.pop_for(Some(worker))
    }

    fn pop_for(&self, worker: Option<usize>) -> Option<T> {
        let mut state = self.lock();
        if let Some(worker) = worker {
            state.busy_since[worker] = None;
        }
        loop {
            match state.queue.pop_front() {
                Some(Control::Elem(value)) => {
                    if let Some(worker) = worker {
                        state.busy_since[worker] = Some(Instant::now());
                    }
                    return Some(value);
                }
                Some(Control::Unblock) => return None,
                None => (),
            }
            state = self.sleep(state);
        }
    }

    /// Waits until notified or, as the standby, until a queued message waits behind workers
    /// that all count as stuck; returns with the queue worth looking at.
    fn sleep<'a>(&'a self, mut state: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        loop {
            state.sleeping += 1;
            let standby = !state.standby && state.busy().1;
            let notified;
            if standby {
                state.standby = true;
                let stuck_after = state.stuck_after;
                let (after, wait) = self
                    .condvar
                    .wait_timeout(state, stuck_after)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                state = after;
                state.standby = false;
                notified = !wait.timed_out();
            } else {
                state = self
                    .condvar
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                notified = true;
            }
            state.sleeping -= 1;
            // A notification can cross a timeout and be lost: keep the count within bounds.
            state.waking = state.waking.saturating_sub(usize::from(notified));
            state.waking = state.waking.min(state.sleeping);
            if notified
                || (!state.queue.is_empty() && state.busy().0 + state.waking < state.concurrency)
            {
                return state;
            }
        }
    }

    /// Tries to pop an element without blocking.
    pub fn try_pop(&self) -> Option<T> {
        match self.lock().queue.pop_front() {
            Some(Control::Elem(value)) => Some(value),
            Some(Control::Unblock) | None => None,
        }
    }

    /// Tries to pop an element without blocking
    /// more than the specified timeout duration
    /// or unblock() was issued
    pub fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            match state.queue.pop_front() {
                Some(Control::Elem(value)) => return Some(value),
                Some(Control::Unblock) => return None,
                None => (),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left < Duration::from_millis(1) {
                return None;
            }
            state.sleeping += 1;
            let (after, wait) = self
                .condvar
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state = after;
            state.sleeping -= 1;
            state.waking = state.waking.saturating_sub(usize::from(!wait.timed_out()));
            state.waking = state.waking.min(state.sleeping);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread;

    /// A queue whose workers count as stuck after `stuck_after`, with `count` registered
    /// workers that hold each message for its value in milliseconds, then send it back with
    /// the times they took and finished it.
    fn pool(
        concurrency: usize,
        stuck_after: Duration,
        count: usize,
    ) -> (Arc<MessagesQueue<u64>>, mpsc::Receiver<(u64, Instant, Instant)>) {
        let queue = MessagesQueue::with_capacity(8);
        queue.set_concurrency(concurrency);
        queue.lock().stuck_after = stuck_after;
        let (done, answers) = mpsc::channel();
        for _ in 0..count {
            let (queue, done) = (Arc::clone(&queue), done.clone());
            thread::spawn(move || {
                let worker = queue.register();
                while let Some(hold) = queue.pop_as(worker) {
                    let taken = Instant::now();
                    thread::sleep(Duration::from_millis(hold));
                    if done.send((hold, taken, Instant::now())).is_err() {
                        break;
                    }
                }
                queue.release(worker);
            });
        }
        thread::sleep(Duration::from_millis(50)); // all asleep
        (queue, answers)
    }

    fn stop(queue: &MessagesQueue<u64>, workers: usize) {
        for _ in 0..workers {
            queue.unblock();
        }
    }

    #[test]
    fn a_message_waits_for_a_busy_worker_until_the_standby_finds_it_stuck() {
        let stuck_after = Duration::from_millis(300);
        let (queue, answers) = pool(1, stuck_after, 3);
        let wait = |what| answers.recv_timeout(Duration::from_secs(10)).expect(what);
        // One worker takes a long message; a second, short one finds no standby yet and is
        // given to a second worker, which then sleeps as the standby.
        queue.push(1_500);
        thread::sleep(Duration::from_millis(20));
        let pushed = Instant::now();
        queue.push(0);
        let (_, short_taken, _) = wait("the short message");
        assert!(short_taken.duration_since(pushed) < Duration::from_millis(200));
        thread::sleep(Duration::from_millis(50)); // its worker is back asleep
        // Now the concurrency is used up: the next message is not handed to anyone until the
        // long one counts as stuck, and then the standby takes it.
        let pushed = Instant::now();
        queue.push(10);
        let (hold, taken, _) = wait("the third message");
        assert_eq!(hold, 10, "answered before the long message");
        let waited = taken.duration_since(pushed);
        assert!(
            waited > Duration::from_millis(100) && waited < Duration::from_millis(1_000),
            "waited {:?}",
            waited
        );
        stop(&queue, 3);
    }

    #[test]
    fn every_message_is_answered_under_contention() {
        let (queue, answers) = pool(2, STUCK_AFTER, 6);
        let pushers: Vec<_> = (0..8)
            .map(|_| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    for i in 0..2_000 {
                        queue.push(u64::from(i % 500 == 0));
                        if i % 100 == 0 {
                            thread::sleep(Duration::from_millis(1));
                        }
                    }
                })
            })
            .collect();
        for pusher in pushers {
            pusher.join().unwrap();
        }
        for n in 0..16_000 {
            if answers.recv_timeout(Duration::from_secs(10)).is_err() {
                panic!("only {n} of 16000 messages answered");
            }
        }
        stop(&queue, 6);
    }

    #[test]
    fn a_lone_message_wakes_a_sleeping_worker_at_once() {
        let (queue, answers) = pool(1, STUCK_AFTER, 3);
        for _ in 0..50 {
            thread::sleep(Duration::from_millis(5));
            let pushed = Instant::now();
            queue.push(0);
            let (_, taken, _) = answers.recv_timeout(Duration::from_secs(5)).unwrap();
            assert!(taken.duration_since(pushed) < Duration::from_millis(100));
        }
        stop(&queue, 3);
    }
}
