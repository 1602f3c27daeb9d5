// One conformance suite for every ObjectStore (STYLE.md §7): object_store_conformance_test.cc
// holds the tests; each binary instantiates them for its stores:
//
//   INSTANTIATE_TEST_SUITE_P(Mem, ObjectStoreConformanceTest,
//                            ::testing::Values(ConformanceTarget{"mem", [] { ... }}));
//
// The unit tests run it on MemObjectStore; tests/integration on S3 (Ceph RGW), Swift on RGW and
// Swift on OpenStack Swift all-in-one.
#ifndef CAIRN_OBJSTORE_OBJECT_STORE_CONFORMANCE_H_
#define CAIRN_OBJSTORE_OBJECT_STORE_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "cairn/common/result.h"
#include "cairn/objstore/object_store.h"

namespace cairn::objstore {

// A store under test and what the suite needs to know about it.
struct ConformanceStore {
  std::shared_ptr<void> owner;  // keeps the store and what it uses alive
  ObjectStore* store = nullptr;
  uint64_t part_size = 5 << 20;  // non-final parts of the large-object tests
  // Makes the store's credentials stale (Swift: a revoked token) so that the next requests must
  // re-authenticate; empty for stores without tokens.
  std::function<void()> expire_credentials;
  // Authentications made so far (Swift), for the re-auth test; empty if not applicable.
  std::function<int64_t()> authentications;
};

struct ConformanceTarget {
  std::string name;
  std::function<Result<ConformanceStore>()> open;
};

inline std::ostream& operator<<(std::ostream& os, const ConformanceTarget& target) {
  return os << target.name;
}

// Gives each test a fresh, empty container on the store, and removes it (with the Swift segment
// container "<name>_segments", if any) afterwards.
class ObjectStoreConformanceTest : public ::testing::TestWithParam<ConformanceTarget> {
 protected:
  void SetUp() override;
  void TearDown() override;

  ObjectStore& store() { return *target_.store; }
  const std::string& container() const { return container_; }

  ConformanceStore target_;
  std::string container_;
};

}  // namespace cairn::objstore

#endif  // CAIRN_OBJSTORE_OBJECT_STORE_CONFORMANCE_H_
