#pragma once
// Glue of the status layer between the modules (agent is the composition root): the
// ClusterView snapshot from the membership + HealthState, the HistoryStore as the recorder's
// sink, and the store as /v1/history's query function.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/health_state.hpp"
#include "agent/history_recorder.hpp"
#include "api/status_routes.hpp"
#include "api/status_view.hpp"
#include "gossip/membership.hpp"
#include "gossip/types.hpp"

namespace vigil::agent {

/// The API's view of a member.
api::MemberInfo member_info(const gossip::Member& m);

/// The snapshot to publish: every member that has not left (sorted by name) with its probes
/// (tombstones dropped) and reachability row from `health`. Loop thread (reads HealthState).
api::ClusterView build_cluster_view(const std::string& observer, std::int64_t now_ms,
                                    const std::vector<gossip::Member>& members,
                                    const HealthState& health,
                                    std::chrono::seconds reach_window = std::chrono::seconds(60));

/// The observer's first-hand evidence that it is cut off, for ClusterView::observer_cut_off:
/// its last 2 probes got no answer at all (direct, indirect via helpers, TCP; helpers of a
/// probe of a dead peer would at least send nacks) and nothing valid has arrived from any peer for
/// 2 probe intervals, while at least 2 other members are known (with one, a dead peer looks
/// the same). Within ~2-3 probe periods of a cut (Lifeguard slows the next probes, so it
/// does not wait for a second failure), where peers' summaries need most of a reach window.
/// "" = none.
std::string cut_off_evidence(const gossip::Membership& m, gossip::TimePoint now);

/// /v1/history's query over `store` (thread-safe: HistoryReader::query is; it may block on
/// disk, which is fine on HTTP threads). `store` must outlive the returned function.
api::HistoryQueryFn make_history_query(const store::HistoryReader& store);

}  // namespace vigil::agent
