#include "agent/keyring_watch.hpp"

#include <asio.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigil::agent {
namespace {

// A keyring of even a hundred keys is a few KiB: anything bigger is not one.
constexpr std::streamsize kMaxKeyringBytes = 1 << 20;
// How long a bad content is given to settle before it is reported.
constexpr std::chrono::milliseconds kSettle{300};

}  // namespace

KeyringWatch::KeyringWatch(asio::io_context& io, std::string path,
                           std::chrono::milliseconds interval, Receiver receiver)
    : io_(io), path_(std::move(path)), interval_(interval), receiver_(std::move(receiver)) {}

KeyringWatch::~KeyringWatch() {
  stop();
}

void KeyringWatch::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void KeyringWatch::reload_now() {
  {
    std::lock_guard lock(mu_);
    force_ = true;
  }
  cv_.notify_one();
}

void KeyringWatch::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void KeyringWatch::run() {
  read_once(false);
  for (;;) {
    bool forced = false;
    {
      std::unique_lock lock(mu_);
      auto wake = [this] { return stop_ || force_; };
      if (interval_.count() > 0) {
        cv_.wait_for(lock, interval_, wake);
      } else {
        cv_.wait(lock, wake);
      }
      if (stop_) return;
      forced = force_;
      force_ = false;
    }
    read_once(forced);
  }
}

void KeyringWatch::read_once(bool forced) {
  Outcome out;
  out.forced = forced;
  std::string text, error;
  if (!read_file(text, error)) {
    if (!forced && last_error_ == error) return;
    last_error_ = error;
    last_text_.reset();  // the same content coming back is news again
    out.error = error;
  } else {
    if (!forced && last_text_ == text) return;
    out.keyring = parse(text, out.error);
    if (!out.keyring) {
      // Maybe caught half-written (an editor or `echo > file` truncates first): look again
      // shortly and judge what is there then.
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, kSettle, [this] { return stop_; })) return;
      lock.unlock();
      std::string again;
      if (read_file(again, error) && again != text) {
        text = std::move(again);
        out.error.clear();
        out.keyring = parse(text, out.error);
      }
    }
    last_text_ = text;
    last_error_.reset();
  }
  asio::post(io_, [this, out = std::move(out)]() mutable { receiver_(std::move(out)); });
}

bool KeyringWatch::read_file(std::string& text, std::string& error) const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    error = "cannot read keyring file " + path_ + ": " + std::strerror(errno);
    return false;
  }
  text.assign(static_cast<std::size_t>(kMaxKeyringBytes) + 1, '\0');
  in.read(text.data(), kMaxKeyringBytes + 1);
  text.resize(static_cast<std::size_t>(in.gcount()));
  return true;
}

std::optional<gossip::udp::Keyring> KeyringWatch::parse(const std::string& text,
                                                        std::string& error) const {
  if (text.size() > static_cast<std::size_t>(kMaxKeyringBytes)) {
    error = "keyring file " + path_ + " is larger than 1 MiB";
    return std::nullopt;
  }
  try {
    return gossip::udp::Keyring::parse(text);
  } catch (const std::exception& e) {
    error = "keyring file " + path_ + ": " + e.what();
    return std::nullopt;
  }
}

}  // namespace vigil::agent
