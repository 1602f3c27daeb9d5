// HttpServer on Boost.Beast/Asio: listening, the worker pool and shutdown. The per-connection
// protocol is in http_connection.cc.
#include "cairn/httpd/http_server.h"

#include <charconv>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "cairn/httpd/http_server_internal.h"

namespace cairn::httpd {
namespace {

using internal::Connection;
using internal::ServerCore;
using internal::tcp;
namespace net = internal::net;

constexpr std::chrono::milliseconds kDefaultGrace{5000};

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("listen address \"" + listen + "\": want HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  std::string_view port_text = std::string_view(listen).substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return InvalidArgumentError("listen address \"" + listen + "\": bad port");
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  net::ip::address address = net::ip::make_address(host, aec);
  if (aec) {
    return InvalidArgumentError("listen address \"" + listen + "\": host must be an IP address");
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

class BeastHttpServer final : public HttpServer {
 public:
  BeastHttpServer(const HttpServerOptions& options, Handler handler)
      : core_(std::make_unique<ServerCore>(options, std::move(handler))),
        acceptor_(net::make_strand(core_->ioc)),
        work_guard_(net::make_work_guard(core_->ioc)) {}

  ~BeastHttpServer() override { Shutdown(kDefaultGrace); }

  Status Listen(const tcp::endpoint& endpoint, const std::string& listen) {
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return UnavailableError("listen on " + listen + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
    return Status::OK();
  }

  void Run() {
    const HttpServerOptions& o = core_->options;
    for (int i = 0; i < std::max(1, o.io_threads); ++i) {
      io_threads_.emplace_back([this] { core_->ioc.run(); });
    }
    for (int i = 0; i < std::max(1, o.worker_threads); ++i) {
      workers_.emplace_back([this] {
        while (std::optional<std::shared_ptr<Connection>> c = core_->queue.Pop()) (*c)->Serve();
      });
    }
    net::post(acceptor_.get_executor(), [this] { Accept(); });
  }

  uint16_t port() const override { return port_; }

  void Shutdown(std::chrono::milliseconds grace) override {
    std::lock_guard shutdown_lock(shutdown_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    core_->stopping = true;
    if (!io_threads_.empty()) {
      std::promise<void> closed;
      net::post(acceptor_.get_executor(), [this, &closed] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        closed.set_value();
      });
      closed.get_future().wait();
    }
    CloseConnections(/*force=*/false);  // idle keep-alive connections go at once
    {
      std::unique_lock lock(core_->mu);
      core_->idle_cv.wait_for(lock, grace, [this] { return core_->in_flight == 0; });
    }
    CloseConnections(/*force=*/true);
    core_->queue.Close();
    for (std::thread& t : workers_) t.join();
    work_guard_.reset();
    core_->ioc.stop();
    for (std::thread& t : io_threads_) t.join();
  }

 private:
  void Accept() {
    acceptor_.async_accept(
        net::make_strand(core_->ioc), [this](boost::system::error_code ec, tcp::socket socket) {
          if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
          if (!ec && !core_->stopping.load()) {
            bool room;
            {
              std::lock_guard lock(core_->mu);
              room = core_->connections.size() < core_->options.max_connections;
            }
            if (room) {
              std::make_shared<Connection>(std::move(socket), core_.get())->Start();
            } else {
              boost::system::error_code ignored;
              socket.close(ignored);
            }
          }
          Accept();
        });
  }

  void CloseConnections(bool force) {
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(core_->mu);
      for (auto& [raw, weak] : core_->connections) {
        if (std::shared_ptr<Connection> c = weak.lock()) open.push_back(std::move(c));
      }
    }
    for (auto& c : open) c->Close(force);
  }

  std::unique_ptr<ServerCore> core_;
  tcp::acceptor acceptor_;  // on its own strand
  net::executor_work_guard<net::io_context::executor_type> work_guard_;
  uint16_t port_ = 0;
  std::vector<std::thread> io_threads_;
  std::vector<std::thread> workers_;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_
};

}  // namespace

namespace internal {
ServerCore::ServerCore(const HttpServerOptions& opts, Handler h)
    : options(opts), handler(std::move(h)), queue(std::max<size_t>(1, opts.max_queued_requests)) {}
}  // namespace internal

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      Handler handler) {
  if (!handler) return InvalidArgumentError("HttpServer::Start: no handler");
  CAIRN_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(options.listen));
  auto server = std::make_unique<BeastHttpServer>(options, std::move(handler));
  CAIRN_RETURN_IF_ERROR(server->Listen(endpoint, options.listen));
  server->Run();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace cairn::httpd
