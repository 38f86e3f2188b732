// WorkerPool over boost::asio::io_context.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs it under g++ 12 C++20

#include "broker/worker_pool.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <thread>
#include <vector>

namespace burrow::broker {

struct WorkerPool::Impl {
  explicit Impl(int n) : ioc(n), guard(boost::asio::make_work_guard(ioc)) {
    threads.reserve(n);
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { ioc.run(); });
  }
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard;
  std::vector<std::thread> threads;
};

WorkerPool::WorkerPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  impl_ = std::make_unique<Impl>(threads);
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::post(std::function<void()> fn) { boost::asio::post(impl_->ioc, std::move(fn)); }

boost::asio::io_context& WorkerPool::io_context() { return impl_->ioc; }

int WorkerPool::thread_count() const { return static_cast<int>(impl_->threads.size()); }

void WorkerPool::stop() {
  impl_->guard.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace burrow::broker
