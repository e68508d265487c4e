#pragma once
// KeyringWatch: picks up a rotated keyring file while the agent runs, so keys rotate with no
// restart and no membership change (add the new key everywhere, make it primary everywhere,
// remove the old one). A Kubernetes Secret volume changes the file in place (an atomic
// symlink swap), so the file is re-read every `interval`; reload_now() (SIGHUP) re-reads at
// once.
//
// Reading and parsing happen on the watch's own thread, never on the loop; each new content
// is handed to the loop thread (posted to `io`) as an Outcome. Contents seen before are not
// handed over again (no log spam while a bad file stays bad), except after reload_now().
// A content that does not parse is read once more after a moment (an in-place edit may have
// been caught half-written) and the second reading is the one judged.
// Swapping the keyring (gossip::udp::Node::set_keyring) is the receiver's job, on the loop.
//
// Lifecycle: start() once, stop() before the io_context is destroyed (joins the thread;
// idempotent; the destructor calls it). Outcomes posted but not yet run when the loop stops
// are dropped with the loop's queue.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "gossip/udp/keyring.hpp"

namespace asio {
class io_context;
}

namespace vigil::agent {

class KeyringWatch {
 public:
  struct Outcome {
    std::optional<gossip::udp::Keyring> keyring;  ///< the file's keys, when valid
    std::string error;                            ///< one line, when unreadable or invalid
    bool forced = false;                          ///< asked for by reload_now()
  };
  /// Called on the loop thread.
  using Receiver = std::function<void(Outcome)>;

  /// `interval` 0: read only on reload_now(). `io` and `receiver` must outlive the watch.
  KeyringWatch(asio::io_context& io, std::string path, std::chrono::milliseconds interval,
               Receiver receiver);
  ~KeyringWatch();
  KeyringWatch(const KeyringWatch&) = delete;
  KeyringWatch& operator=(const KeyringWatch&) = delete;

  /// Starts the thread; its first read hands the current content over (the receiver compares
  /// it with the keys in use).
  void start();
  /// Re-reads now and hands the outcome over even if the content did not change. Any thread;
  /// never blocks on the read.
  void reload_now();
  /// Stops and joins the thread. Idempotent.
  void stop();

 private:
  void run();
  void read_once(bool forced);
  bool read_file(std::string& text, std::string& error) const;
  std::optional<gossip::udp::Keyring> parse(const std::string& text, std::string& error) const;

  asio::io_context& io_;
  const std::string path_;
  const std::chrono::milliseconds interval_;
  Receiver receiver_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, force_ = false;
  std::thread thread_;
  // Watch thread only: the last content handed over (text or read error).
  std::optional<std::string> last_text_, last_error_;
};

}  // namespace vigil::agent
