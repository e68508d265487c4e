#pragma once
// Loopback ports for tests that hand a port number to something that binds it later: a
// `vigil agent` process, etcd, dnsmasq, an in-process agent. One allocator for every test
// binary (library test_ports); how it keeps two test processes from ever getting the same port
// is explained in ports.cpp.

#include <string>

namespace vigil::test {

/// A port on 127.0.0.1 that was free for both UDP and TCP when handed out and that no other
/// test process using this allocator is handed while this process lives; never the same port
/// twice in one process. Below the kernel's ephemeral range, so no client socket or bind to
/// port 0 gets it either. Throws std::runtime_error when the range is used up.
int free_port();

/// True when a process's output says it could not bind because an address was in use
/// ("Address already in use", any case: the agent, etcd, dnsmasq and httplib all say so).
bool address_in_use(const std::string& output);

/// How many times a fixture starts a component on fresh ports when it exited at start-up
/// with address_in_use() (a program outside the allocator took one of them meanwhile).
inline constexpr int kPortAttempts = 3;

}  // namespace vigil::test
