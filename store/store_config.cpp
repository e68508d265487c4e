#include "store/store_config.hpp"

namespace vigil::store {

std::vector<std::string> StoreConfig::validate() const {
  std::vector<std::string> errors;
  if (data_dir.empty()) errors.emplace_back("store: data_dir is empty");
  if (retention.count() <= 0) errors.emplace_back("store: retention must be > 0");
  if (eviction_interval.count() <= 0) errors.emplace_back("store: eviction_interval must be > 0");
  if (flush_interval.count() <= 0) errors.emplace_back("store: flush_interval must be > 0");
  if (max_batch == 0) errors.emplace_back("store: max_batch must be > 0");
  if (queue_capacity == 0) errors.emplace_back("store: queue_capacity must be > 0");
  if (memory_capacity == 0) errors.emplace_back("store: memory_capacity must be > 0");
  if (retry_interval.count() <= 0) errors.emplace_back("store: retry_interval must be > 0");
  if (busy_timeout.count() < 0) errors.emplace_back("store: busy_timeout must be >= 0");
  return errors;
}

}  // namespace vigil::store
