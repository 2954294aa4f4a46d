//! The queue between the threads that read requests and the workers that answer them.
//!
//! openbb-files patches (PATCHES.md, changes 12 and 14): a push wakes a waiting worker only
//! when one is needed. A condvar notification is a futex call even with no waiter, so a push
//! when nobody waits makes none. And, with a [`Scheduling`] that says so, workers beyond
//! `wake_limit` are spares: a push wakes a worker only while fewer than `wake_limit` are
//! running or being woken. Otherwise the element waits for a running worker to come back for
//! it, which under load is soon and costs no wake-up at all. Should the element at the head
//! wait longer than `stall` (the running workers are blocked: a slow client, a first load of
//! a big file), a spare takes it. The default scheduling is upstream's: every push wakes a
//! waiting worker. The policy is the server's to choose ([`Scheduling`]).

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// openbb-files patch: how a [`MessagesQueue`] (the server's queue of requests) shares its
/// elements among the threads waiting in `pop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheduling {
    /// A push wakes a waiting thread only while fewer than this many threads are running
    /// (took an element in `pop` and have not come back for the next) or being woken; the
    /// other waiting threads are spares. At least 1.
    pub wake_limit: usize,
    /// How long the element at the head may wait for a running thread to come back before a
    /// spare takes it.
    pub stall: Duration,
}

impl Default for Scheduling {
    /// Upstream's: every push wakes a waiting thread, no element is held back.
    fn default() -> Scheduling {
        Scheduling {
            wake_limit: usize::MAX,
            stall: Duration::ZERO,
        }
    }
}

enum Control<T> {
    Elem(T),
    Unblock,
}

/// A FIFO queue of elements (requests) for the threads that `pop` them (workers).
///
/// Guarantees (openbb-files patches, see the module comment and [`Scheduling`]):
/// - every element pushed is taken exactly once, by one `pop`, `try_pop` or `pop_timeout`,
///   in the order pushed; none is lost while a thread waits in `pop`;
/// - a thread coming back to `pop` (it took the previous element there) takes a queued
///   element at once, whatever the limit, and without waiting on the condvar;
/// - a woken thread takes the head while the running threads are below `wake_limit`, or once
///   the head has waited `stall`: while elements are held back, one spare sleeps in `pop`
///   with the head's deadline (`watching`), and a push or a take that finds none wakes one to
///   do so; so no element waits longer than `stall` while a thread waits in `pop`;
/// - a push makes at most one condvar notification, and none when no thread is waiting;
/// - every `unblock` is answered: it is queued behind the elements pushed before it and
///   returns `None` from the `pop` that reaches it.
///
/// Exercised by the tests below and, through the server, by the top-level randomized
/// `tests/stress.rs` (no request lost or answered twice).
///
/// The price of spares: while every running thread is blocked, an element waits up to
/// `stall` longer than for an idle thread woken at once. `try_pop` and `pop_timeout` (not
/// used by openbb-files) take any element at once and do not count as running. A thread is
/// expected to pop from one queue: the queue it is running for is known by its address.
pub struct MessagesQueue<T>
where
    T: Send,
{
    queue: Mutex<Queue<T>>,
    condvar: Condvar,
    scheduling: Scheduling,
}

struct Queue<T> {
    /// Each element with the time it was pushed.
    elements: VecDeque<(Control<T>, Instant)>,
    /// Threads waiting in `pop` or `pop_timeout`.
    waiting: usize,
    /// Of those, threads notified and not yet awake.
    waking: usize,
    /// Of those, threads waiting in `pop` with the deadline of a held-back head.
    watching: usize,
    /// Threads that took an element in `pop` and have not come back for the next one.
    running: usize,
    /// Notifications sent and waits begun, for the tests to tell wake-ups apart.
    #[cfg(test)]
    notified: usize,
    #[cfg(test)]
    waits: usize,
}

thread_local! {
    /// The queue (its address) whose element this thread took in `pop` and is working on.
    static RUNNING_FOR: Cell<usize> = const { Cell::new(0) };
}

impl<T> MessagesQueue<T>
where
    T: Send,
{
    /// A queue whose elements are shared among the waiting threads as `scheduling` says.
    pub fn with_capacity(capacity: usize, scheduling: Scheduling) -> Arc<MessagesQueue<T>> {
        Arc::new(MessagesQueue {
            queue: Mutex::new(Queue {
                elements: VecDeque::with_capacity(capacity),
                waiting: 0,
                waking: 0,
                watching: 0,
                running: 0,
                #[cfg(test)]
                notified: 0,
                #[cfg(test)]
                waits: 0,
            }),
            condvar: Condvar::new(),
            scheduling: Scheduling {
                wake_limit: scheduling.wake_limit.max(1),
                ..scheduling
            },
        })
    }

    /// Pushes an element to the queue.
    pub fn push(&self, value: T) {
        let mut queue = self.lock();
        queue
            .elements
            .push_back((Control::Elem(value), Instant::now()));
        self.wake_if_needed(&mut queue);
    }

    /// Unblock one thread stuck in pop loop.
    pub fn unblock(&self) {
        let mut queue = self.lock();
        queue.elements.push_back((Control::Unblock, Instant::now()));
        if queue.waiting > queue.waking {
            queue.waking += 1;
        }
        self.notify_one(&mut queue);
    }

    /// Pops an element. Blocks until one is available.
    /// Returns None in case unblock() was issued.
    pub fn pop(&self) -> Option<T> {
        let mut queue = self.lock();
        if RUNNING_FOR.with(|held| held.replace(0)) == self.address() {
            queue.running = queue.running.saturating_sub(1);
        }
        let mut woken = false;
        loop {
            let take = match queue.elements.front() {
                None => false,
                Some((Control::Unblock, _)) => true,
                Some((Control::Elem(_), pushed)) => {
                    !woken
                        || queue.running < self.scheduling.wake_limit
                        || pushed.elapsed() >= self.scheduling.stall
                }
            };
            if take {
                let taken = match queue.elements.pop_front().map(|(control, _)| control) {
                    Some(Control::Elem(value)) => {
                        queue.running += 1;
                        RUNNING_FOR.with(|held| held.set(self.address()));
                        Some(value)
                    }
                    _ => None,
                };
                self.wake_if_needed(&mut queue);
                return taken;
            }
            let stall = self.scheduling.stall;
            let held_back = queue.elements.front().map(|(_, pushed)| *pushed + stall);
            queue = self.wait(queue, held_back, held_back.is_some());
            woken = true;
        }
    }

    /// Tries to pop an element without blocking.
    pub fn try_pop(&self) -> Option<T> {
        let mut queue = self.lock();
        let taken = queue.elements.pop_front();
        self.wake_if_needed(&mut queue);
        match taken {
            Some((Control::Elem(value), _)) => Some(value),
            Some((Control::Unblock, _)) | None => None,
        }
    }

    /// Tries to pop an element without blocking
    /// more than the specified timeout duration
    /// or unblock() was issued
    pub fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut queue = self.lock();
        loop {
            if let Some((control, _)) = queue.elements.pop_front() {
                self.wake_if_needed(&mut queue);
                return match control {
                    Control::Elem(value) => Some(value),
                    Control::Unblock => None,
                };
            }
            if Instant::now() >= deadline {
                return None;
            }
            queue = self.wait(queue, Some(deadline), false);
        }
    }

    /// Wakes a sleeping thread if a queued element needs one: to take it while the running
    /// threads are below the limit, or else to watch the held-back head's deadline.
    fn wake_if_needed(&self, queue: &mut Queue<T>) {
        let sleeping = queue.waiting.saturating_sub(queue.waking);
        let wanted = queue.running + queue.waking < self.scheduling.wake_limit;
        let unwatched = queue.watching == 0 && queue.waking == 0;
        if !queue.elements.is_empty() && sleeping > 0 && (wanted || unwatched) {
            queue.waking += 1;
            self.notify_one(queue);
        }
    }

    /// Wakes one waiting thread (counted for the tests).
    fn notify_one(&self, _queue: &mut Queue<T>) {
        #[cfg(test)]
        {
            _queue.notified += 1;
        }
        self.condvar.notify_one();
    }

    /// Waits for a notification, or until `deadline` when there is one, keeping the counts of
    /// waiting threads; `watch`: the deadline is a held-back head's (a spare in `pop`).
    fn wait<'a>(
        &self,
        mut queue: MutexGuard<'a, Queue<T>>,
        deadline: Option<Instant>,
        watch: bool,
    ) -> MutexGuard<'a, Queue<T>> {
        queue.waiting += 1;
        #[cfg(test)]
        {
            queue.waits += 1;
        }
        let notified;
        (queue, notified) = match deadline {
            Some(deadline) => {
                queue.watching += usize::from(watch);
                let left = deadline.saturating_duration_since(Instant::now());
                let (mut queue, waited) = self
                    .condvar
                    .wait_timeout(queue, left)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                queue.watching -= usize::from(watch);
                (queue, !waited.timed_out())
            }
            None => {
                let queue = self
                    .condvar
                    .wait(queue)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                (queue, true)
            }
        };
        queue.waiting -= 1;
        // (a spurious wake-up counts as a notification: at worst one wake-up too many later)
        if notified {
            queue.waking = queue.waking.saturating_sub(1);
        }
        queue
    }

    fn lock(&self) -> MutexGuard<'_, Queue<T>> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn address(&self) -> usize {
        self as *const Self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::{MessagesQueue, Scheduling};
    use std::sync::{mpsc, Arc};
    use std::thread;
    use std::time::{Duration, Instant};

    /// Long enough that what happens before a spare takes a held-back element is easy to see.
    const STALL: Duration = Duration::from_millis(300);

    fn spares_beyond(wake_limit: usize) -> Scheduling {
        Scheduling {
            wake_limit,
            stall: STALL,
        }
    }

    /// Pushes skip the wake-up while nobody waits or while the running threads are at the
    /// limit; no element may be left behind by that.
    #[test]
    fn every_element_reaches_a_waiting_or_busy_popper() {
        for wake_limit in [1, 2, 8] {
            let queue = MessagesQueue::with_capacity(8, spares_beyond(wake_limit));
            let (done, answers) = mpsc::channel();
            for _ in 0..4 {
                let (queue, done) = (Arc::clone(&queue), done.clone());
                thread::spawn(move || {
                    while let Some(element) = queue.pop() {
                        if element % 97 == 0 {
                            thread::sleep(Duration::from_millis(1));
                        }
                        done.send(element).unwrap();
                    }
                });
            }
            for pusher in 0..2u32 {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    for i in 0..5_000 {
                        queue.push(pusher * 5_000 + i);
                        if i % 500 == 0 {
                            thread::sleep(Duration::from_millis(2));
                        }
                    }
                });
            }
            let mut seen: Vec<u32> = (0..10_000)
                .map(|_| answers.recv_timeout(Duration::from_secs(10)).unwrap())
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..10_000).collect::<Vec<_>>(), "limit {wake_limit}");
            for _ in 0..4 {
                queue.unblock();
            }
        }
    }

    /// Two elements held back behind a blocked thread: each is taken by a spare, the second
    /// too (the spare that took the first wakes another to watch it).
    #[test]
    fn every_held_back_element_is_taken_by_a_spare() {
        let queue = MessagesQueue::with_capacity(8, spares_beyond(1));
        let (release, blocked) = mpsc::channel::<()>();
        let (took, taken) = mpsc::channel();
        let busy = {
            let (queue, took) = (Arc::clone(&queue), took.clone());
            thread::spawn(move || {
                took.send(queue.pop()).unwrap();
                let _ = blocked.recv_timeout(Duration::from_secs(10)); // blocked on it
            })
        };
        queue.push(1);
        assert_eq!(
            taken.recv_timeout(Duration::from_secs(10)).unwrap(),
            Some(1)
        );
        for _ in 0..2 {
            let (queue, took) = (Arc::clone(&queue), took.clone());
            thread::spawn(move || took.send(queue.pop()).unwrap());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while queue.lock().waiting < 2 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1)); // until both spares wait
        }
        let before = queue.lock().notified;
        queue.push(2);
        queue.push(3);
        // at the limit: one spare is woken to watch the head, not one per push
        assert_eq!(queue.lock().notified - before, 1);
        let mut next: Vec<_> = (0..2)
            .map(|_| taken.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        next.sort();
        assert_eq!(next, [Some(2), Some(3)]);
        release.send(()).unwrap();
        busy.join().unwrap();
    }

    /// With the one running thread blocked on its element, a waiting spare is not woken for
    /// the next one at once, but takes it once it has waited `STALL`.
    #[test]
    fn a_spare_takes_what_a_blocked_worker_holds_back() {
        let queue = MessagesQueue::with_capacity(8, spares_beyond(1));
        let (took, taken) = mpsc::channel();
        let (release, blocked) = mpsc::channel::<()>();
        let busy = {
            let (queue, took) = (Arc::clone(&queue), took.clone());
            thread::spawn(move || {
                let first = queue.pop();
                took.send((first, Instant::now())).unwrap();
                let _ = blocked.recv_timeout(Duration::from_secs(10)); // blocked on its element
                queue.pop()
            })
        };
        queue.push(1);
        assert_eq!(
            taken.recv_timeout(Duration::from_secs(10)).unwrap().0,
            Some(1)
        );
        let spare = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                let next = queue.pop();
                took.send((next, Instant::now())).unwrap();
            })
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while queue.lock().waiting == 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1)); // until the spare waits
        }
        let pushed = Instant::now();
        queue.push(2);
        let (next, at) = taken.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(next, Some(2));
        assert!(at - pushed >= STALL, "taken after {:?}", at - pushed);
        spare.join().unwrap();
        // the blocked thread comes back: the next element is its own at once
        queue.push(3);
        release.send(()).unwrap();
        assert_eq!(busy.join().unwrap(), Some(3));
    }

    /// A `pop_timeout` waiter is no spare watching a held-back element: a spare in `pop` still
    /// takes it after `STALL`, not after the other's timeout.
    #[test]
    fn a_pop_timeout_waiter_does_not_hide_a_held_back_element() {
        let queue = MessagesQueue::with_capacity(8, spares_beyond(1));
        queue.push(1);
        assert_eq!(queue.pop(), Some(1)); // this thread is running, blocked on it
        let (took, taken) = mpsc::channel();
        let timed = {
            let (queue, took) = (Arc::clone(&queue), took.clone());
            thread::spawn(move || {
                took.send(queue.pop_timeout(Duration::from_secs(30)))
                    .unwrap()
            })
        };
        let spare = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || took.send(queue.pop()).unwrap())
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while queue.lock().waiting < 2 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1)); // until both wait
        }
        queue.push(2);
        assert_eq!(
            taken.recv_timeout(Duration::from_secs(10)).unwrap(),
            Some(2)
        );
        queue.push(3);
        assert_eq!(
            taken.recv_timeout(Duration::from_secs(10)).unwrap(),
            Some(3)
        );
        timed.join().unwrap();
        spare.join().unwrap();
    }

    /// A thread coming back for the next element takes it whatever the limit, and `unblock`
    /// reaches a waiting thread even while elements are held back.
    #[test]
    fn returning_threads_take_at_once_and_unblock_is_answered() {
        let queue = MessagesQueue::with_capacity(8, spares_beyond(1));
        queue.push(1);
        queue.push(2);
        assert_eq!(queue.pop(), Some(1));
        assert_eq!(queue.pop(), Some(2)); // running, and coming back: no wait
        assert_eq!(queue.lock().waits, 0);
        // a spare takes a held-back element and holds it: two running, over the limit of one
        let (release, blocked) = mpsc::channel::<()>();
        let spare = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                let taken = queue.pop();
                let _ = blocked.recv_timeout(Duration::from_secs(10));
                taken
            })
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while queue.lock().waiting == 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1)); // until the spare waits
        }
        queue.push(3);
        while queue.lock().running < 2 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1)); // until the spare took it
        }
        // coming back while still over the limit: the next element is taken without a wait
        queue.push(4);
        let waits = queue.lock().waits;
        assert_eq!(queue.pop(), Some(4));
        assert_eq!(queue.lock().waits, waits);
        release.send(()).unwrap();
        assert_eq!(spare.join().unwrap(), Some(3));
        let waiter = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.pop())
        };
        thread::sleep(Duration::from_millis(20));
        queue.unblock();
        assert_eq!(waiter.join().unwrap(), None);
    }
}
