#include "cairn/objstore/s3/list_iterator.h"

#include <string>
#include <utility>
#include <vector>

#include "cairn/common/status.h"

namespace cairn::objstore::s3 {

Result<std::unique_ptr<ObjectLister>> ObjectLister::Start(S3Client* client, std::string bucket,
                                                          ListOptions options) {
  if (client == nullptr) return InvalidArgumentError("list: no S3 client");
  if (bucket.empty()) return InvalidArgumentError("list: empty bucket name");
  // S3: at most 1,000 keys per page. The bound keeps the memory promise (two pages) honest.
  if (options.max_keys < 1 || options.max_keys > 1000) {
    return InvalidArgumentError("list " + S3Uri(bucket, options.prefix) + ": max_keys " +
                                std::to_string(options.max_keys) + " outside 1..1000");
  }
  std::unique_ptr<ObjectLister> lister(
      new ObjectLister(client, std::move(bucket), std::move(options)));
  lister->fetcher_ = std::thread([l = lister.get()] { l->FetchLoop(); });
  return lister;
}

ObjectLister::ObjectLister(S3Client* client, std::string bucket, ListOptions options)
    : client_(client), bucket_(std::move(bucket)), options_(std::move(options)) {}

ObjectLister::~ObjectLister() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (fetcher_.joinable()) fetcher_.join();
}

void ObjectLister::FetchLoop() {
  ListOptions request = options_;
  int64_t page_number = 0;
  while (true) {
    {
      // Bounded memory: the next request waits until the consumer took the last page fetched,
      // so at most the consumer's page and this one exist at once.
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !ready_.has_value(); });
      if (stop_) return;
    }
    ++page_number;
    PageResult page = client_->ListObjectsV2(bucket_, request);
    bool last = true;
    if (page.ok() && page->is_truncated) {
      if (page->next_continuation_token == request.continuation_token) {
        // The parser guarantees a token on a truncated page; one equal to the token sent would
        // return the same page forever.
        page = InternalError("list " + S3Uri(bucket_, options_.prefix) + ": page " +
                             std::to_string(page_number) +
                             " is truncated but its NextContinuationToken is the token it was "
                             "asked with (\"" +
                             request.continuation_token + "\"): the server makes no progress");
      } else {
        request.continuation_token = page->next_continuation_token;
        last = false;
      }
    }
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      if (page.ok()) ++pages_fetched_;
      ready_.emplace(std::move(page));
    }
    cv_.notify_all();
    if (last) return;
  }
}

Status ObjectLister::TakeNextPage() {
  current_.reset();  // consumed: free it before waiting for the next one
  next_object_ = 0;
  next_prefix_ = 0;
  std::optional<PageResult> taken;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return ready_.has_value(); });
    taken = std::move(ready_);
    ready_.reset();
  }
  cv_.notify_all();  // the fetcher may ask for the page after this one
  if (!taken->ok()) return std::move(*taken).status();
  current_.emplace(std::move(**taken));
  return Status::OK();
}

Result<std::optional<ListEntry>> ObjectLister::NextEntry() {
  while (!finished_) {
    if (current_) {
      const std::vector<ObjectSummary>& objects = current_->contents;
      const std::vector<std::string>& prefixes = current_->common_prefixes;
      const bool have_object = next_object_ < objects.size();
      const bool have_prefix = next_prefix_ < prefixes.size();
      // S3 pages both lists in one order (UTF-8 binary, which std::string's < is); merge them.
      if (have_prefix && (!have_object || prefixes[next_prefix_] < objects[next_object_].key)) {
        ListEntry entry;
        entry.kind = ListEntry::Kind::kCommonPrefix;
        entry.prefix = std::move(current_->common_prefixes[next_prefix_++]);
        ++common_prefixes_;
        return std::optional<ListEntry>(std::move(entry));
      }
      if (have_object) {
        ListEntry entry;
        entry.object = std::move(current_->contents[next_object_++]);
        ++objects_;
        return std::optional<ListEntry>(std::move(entry));
      }
      if (!current_->is_truncated) {
        finished_ = true;
        current_.reset();
        break;
      }
    }
    if (Status status = TakeNextPage(); !status.ok()) {
      finished_ = true;
      return status;
    }
  }
  return std::optional<ListEntry>();
}

Result<std::optional<ObjectSummary>> ObjectLister::Next() {
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<ListEntry> entry, NextEntry());
    if (!entry) return std::optional<ObjectSummary>();
    if (!entry->is_prefix()) return std::optional<ObjectSummary>(std::move(entry->object));
  }
}

ObjectListerStats ObjectLister::stats() const {
  ObjectListerStats stats;
  {
    std::lock_guard lock(mu_);
    stats.pages_fetched = pages_fetched_;
  }
  stats.objects = objects_;
  stats.common_prefixes = common_prefixes_;
  return stats;
}

}  // namespace cairn::objstore::s3
