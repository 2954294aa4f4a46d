use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

enum Control<T> {
    Elem(T),
    Unblock,
}

pub struct MessagesQueue<T>
where
    T: Send,
{
    queue: Mutex<Queue<T>>,
    condvar: Condvar,
}

/// openbb-files patch: the queue with the number of threads waiting on the condvar, so that a
/// push when nobody waits (every worker busy, as under load) makes no futex call.
struct Queue<T> {
    elements: VecDeque<Control<T>>,
    waiting: usize,
}

impl<T> MessagesQueue<T>
where
    T: Send,
{
    pub fn with_capacity(capacity: usize) -> Arc<MessagesQueue<T>> {
        Arc::new(MessagesQueue {
            queue: Mutex::new(Queue {
                elements: VecDeque::with_capacity(capacity),
                waiting: 0,
            }),
            condvar: Condvar::new(),
        })
    }

    /// Pushes an element to the queue.
    pub fn push(&self, value: T) {
        let mut queue = self.queue.lock().unwrap();
        queue.elements.push_back(Control::Elem(value));
        if queue.waiting > 0 {
            self.condvar.notify_one();
        }
    }

    /// Unblock one thread stuck in pop loop.
    pub fn unblock(&self) {
        let mut queue = self.queue.lock().unwrap();
        queue.elements.push_back(Control::Unblock);
        self.condvar.notify_one();
    }

    /// Pops an element. Blocks until one is available.
    /// Returns None in case unblock() was issued.
    pub fn pop(&self) -> Option<T> {
        let mut queue = self.queue.lock().unwrap();

        loop {
            match queue.elements.pop_front() {
                Some(Control::Elem(value)) => return Some(value),
                Some(Control::Unblock) => return None,
                None => (),
            }

            queue.waiting += 1;
            queue = self.condvar.wait(queue).unwrap();
            queue.waiting -= 1;
        }
    }

    /// Tries to pop an element without blocking.
    pub fn try_pop(&self) -> Option<T> {
        let mut queue = self.queue.lock().unwrap();
        match queue.elements.pop_front() {
            Some(Control::Elem(value)) => Some(value),
            Some(Control::Unblock) | None => None,
        }
    }

    /// Tries to pop an element without blocking
    /// more than the specified timeout duration
    /// or unblock() was issued
    pub fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        let mut queue = self.queue.lock().unwrap();
        let mut duration = timeout;
        loop {
            match queue.elements.pop_front() {
                Some(Control::Elem(value)) => return Some(value),
                Some(Control::Unblock) => return None,
                None => (),
            }
            let now = Instant::now();
            queue.waiting += 1;
            let (_queue, result) = self.condvar.wait_timeout(queue, timeout).unwrap();
            queue = _queue;
            queue.waiting -= 1;
            let sleep_time = now.elapsed();
            duration = if duration > sleep_time {
                duration - sleep_time
            } else {
                Duration::from_millis(0)
            };
            if result.timed_out()
                || (duration.as_secs() == 0 && duration.subsec_nanos() < 1_000_000)
            {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MessagesQueue;
    use std::sync::{mpsc, Arc};
    use std::thread;
    use std::time::Duration;

    /// Pushes skip the wake-up while nobody waits; no element may be left behind by that.
    #[test]
    fn every_element_reaches_a_waiting_or_busy_popper() {
        let queue = MessagesQueue::with_capacity(8);
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
        assert_eq!(seen, (0..10_000).collect::<Vec<_>>());
        for _ in 0..4 {
            queue.unblock();
        }
    }
}
