#include "cairn/mount/tree.h"

#include <algorithm>
#include <ctime>
#include <functional>
#include <optional>
#include <set>

namespace cairn::mount {
namespace {

using manifest::Manifest;

constexpr std::string_view kById = "by_id";
constexpr std::string_view kHome = "home";
constexpr std::string_view kShared = "shared";

// Splits "/a/b/c" into "a" and "b/c" (either may be empty).
std::pair<std::string_view, std::string_view> SplitFirst(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {path, {}};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A collection uuid (<5>-4zz18-<15>) or a portable data hash (<32 hex>+<size>): only these are
// worth a catalog request (a shell's probes for ".git" or "autorun.inf" are not).
bool LooksLikeCollectionId(std::string_view id) {
  if (id.size() == 27 && id[5] == '-' && id[11] == '-' && id.substr(6, 5) == "4zz18") {
    for (size_t i = 0; i < id.size(); ++i) {
      if (i != 5 && i != 11 && !IsLowerAlnum(id[i])) return false;
    }
    return true;
  }
  if (id.size() < 34 || id[32] != '+') return false;
  for (size_t i = 0; i < 32; ++i) {
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return false;
  }
  for (size_t i = 33; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
  }
  return true;
}

bool IsPdh(std::string_view id) { return id.size() >= 34 && id[32] == '+'; }

std::string DisplayName(const client::Collection& c) {
  std::string name = c.name;
  std::replace(name.begin(), name.end(), '/', '_');
  if (name.empty() || name == "." || name == "..") return c.uuid;
  return name;
}

}  // namespace

CollectionTree::CollectionTree(CollectionSource* source, io::Env* env, TreeOptions options)
    : source_(source),
      env_(env),
      options_(std::move(options)),
      started_at_(env->NowUnixSeconds()),
      collections_(std::max<size_t>(1, options_.max_collections)) {}

int64_t CollectionTree::ParseTime(std::string_view rfc3339) {
  std::tm tm{};
  std::string text(rfc3339.substr(0, 19));
  if (text.size() != 19 || ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) {
    return 0;
  }
  return static_cast<int64_t>(::timegm(&tm));
}

Attr CollectionTree::TopDirectory(uint32_t subdirs, int64_t mtime) const {
  return Attr{
      .is_directory = true, .size = 0, .mtime = mtime ? mtime : started_at_, .nlink = 2 + subdirs};
}

Attr CollectionTree::AttrOf(const LoadedCollection& c, Manifest::NodeId node) {
  if (c.manifest.IsDirectory(node)) {
    uint32_t subdirs = node < c.subdirs.size() ? c.subdirs[node] : 0;
    return Attr{.is_directory = true, .size = 0, .mtime = c.mtime, .nlink = 2 + subdirs};
  }
  return Attr{
      .is_directory = false, .size = c.manifest.FileSize(node), .mtime = c.mtime, .nlink = 1};
}

Result<std::shared_ptr<const LoadedCollection>> CollectionTree::Parse(
    client::Collection collection) {
  auto loaded = std::make_shared<LoadedCollection>();
  Result<Manifest> parsed = Manifest::Parse(collection.manifest_text);
  if (!parsed.ok()) return parsed.status().WithContext("collection " + collection.uuid);
  loaded->manifest = std::move(*parsed);
  collection.manifest_text.clear();
  collection.manifest_text.shrink_to_fit();
  loaded->mtime = ParseTime(collection.modified_at);
  loaded->meta = std::move(collection);
  // One walk counts each directory's subdirectories (nlink = 2 + subdirectories, as ext4).
  std::vector<Manifest::NodeId> stack = {Manifest::kRoot};
  while (!stack.empty()) {
    Manifest::NodeId dir = stack.back();
    stack.pop_back();
    uint32_t count = 0;
    for (Manifest::NodeId child : loaded->manifest.Children(dir)) {
      if (!loaded->manifest.IsDirectory(child)) continue;
      ++count;
      stack.push_back(child);
    }
    if (dir >= loaded->subdirs.size()) loaded->subdirs.resize(size_t{dir} + 1, 0);
    loaded->subdirs[dir] = count;
  }
  return std::shared_ptr<const LoadedCollection>(std::move(loaded));
}

Result<std::shared_ptr<const LoadedCollection>> CollectionTree::Load(
    const std::string& id, std::string_view expected_pdh) {
  const int64_t now = env_->NowUnixMicros();
  const int64_t ttl_micros = int64_t{options_.ttl.count()} * 1'000'000;
  {
    std::lock_guard lock(mu_);
    if (Cached* cached = collections_.Get(id)) {
      bool fresh;
      if (!expected_pdh.empty()) {
        fresh = cached->collection->meta.portable_data_hash == expected_pdh;
      } else {
        fresh = IsPdh(id) || now - cached->fetched_at < ttl_micros;
      }
      if (fresh) return cached->collection;
    }
  }
  // Fetched without the lock: other paths keep being served meanwhile.
  CAIRN_ASSIGN_OR_RETURN(client::Collection collection, source_->Get(id));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const LoadedCollection> loaded,
                         Parse(std::move(collection)));
  std::lock_guard lock(mu_);
  collections_.Put(id, Cached{loaded, now});
  return loaded;
}

Result<std::map<std::string, client::Collection>> CollectionTree::Entries(Scope scope,
                                                                          int64_t* mtime) {
  Listing& listing = scope == Scope::kOwned ? owned_ : shared_;
  const int64_t ttl_micros = int64_t{options_.ttl.count()} * 1'000'000;
  std::lock_guard refresh(listing.refresh_mu);
  {
    std::lock_guard lock(mu_);
    if (listing.fetched_at != 0 && env_->NowUnixMicros() - listing.fetched_at < ttl_micros) {
      *mtime = listing.mtime;
      return listing.by_name;
    }
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<client::Collection> items, source_->List(scope));
  // The oldest collection of a name keeps it; the others get their uuid appended.
  std::sort(items.begin(), items.end(),
            [](const client::Collection& a, const client::Collection& b) {
              return std::tie(a.created_at, a.uuid) < std::tie(b.created_at, b.uuid);
            });
  std::map<std::string, client::Collection> by_name;
  int64_t newest = 0;
  for (client::Collection& c : items) {
    newest = std::max(newest, ParseTime(c.modified_at));
    std::string name = DisplayName(c);
    if (by_name.contains(name)) name += " (" + c.uuid + ")";
    by_name.emplace(std::move(name), std::move(c));
  }
  std::lock_guard lock(mu_);
  listing.by_name = std::move(by_name);
  listing.mtime = newest;
  listing.fetched_at = env_->NowUnixMicros();
  *mtime = listing.mtime;
  return listing.by_name;
}

Result<Node> CollectionTree::Within(std::shared_ptr<const LoadedCollection> collection,
                                    std::string_view rest) {
  std::optional<Manifest::NodeId> node = collection->manifest.Find(rest);
  if (!node) return NotFoundError("no \"" + std::string(rest) + "\" in the collection");
  Node out;
  out.attr = AttrOf(*collection, *node);
  out.node = *node;
  out.is_collection_root = *node == Manifest::kRoot;
  if (out.is_collection_root) {
    out.uuid = collection->meta.uuid;
    out.pdh = collection->meta.portable_data_hash;
  }
  out.collection = std::move(collection);
  return out;
}

Node CollectionTree::RootOf(const client::Collection& c) {
  Node out;
  out.attr = Attr{.is_directory = true, .size = 0, .mtime = ParseTime(c.modified_at), .nlink = 1};
  out.is_collection_root = true;
  out.uuid = c.uuid;
  out.pdh = c.portable_data_hash;
  return out;
}

Node CollectionTree::ListedRoot(const client::Collection& c) {
  std::shared_ptr<const LoadedCollection> loaded;
  {
    std::lock_guard lock(mu_);
    const Cached* cached = collections_.Peek(c.uuid);
    if (cached != nullptr && cached->collection->meta.portable_data_hash == c.portable_data_hash) {
      loaded = cached->collection;
    }
  }
  if (loaded == nullptr) return RootOf(c);
  return *Within(std::move(loaded), "");
}

Status CollectionTree::Saved(client::Collection saved) {
  const std::string uuid = saved.uuid;
  client::Collection listed = saved;
  listed.manifest_text.clear();
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const LoadedCollection> loaded, Parse(std::move(saved)));
  std::lock_guard lock(mu_);
  collections_.Put(uuid, Cached{loaded, env_->NowUnixMicros()});
  bool found = false;
  for (auto& [name, c] : owned_.by_name) {
    if (c.uuid != uuid) continue;
    c = listed;
    found = true;
  }
  if (!found) owned_.fetched_at = 0;  // a new collection: list home/ again
  return Status();
}

Result<Node> CollectionTree::Resolve(std::string_view path) { return Resolve(path, false); }

Result<Node> CollectionTree::Resolve(std::string_view path, bool load) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (!options_.collection_id.empty()) {
    CAIRN_ASSIGN_OR_RETURN(auto collection, Load(options_.collection_id, ""));
    return Within(std::move(collection), path);
  }
  if (path.empty()) return Node{.attr = TopDirectory(3, 0)};
  auto [top, rest] = SplitFirst(path);
  if (top == kById) {
    if (rest.empty()) return Node{.attr = TopDirectory(0, 0)};
    auto [id, inner] = SplitFirst(rest);
    if (!LooksLikeCollectionId(id)) return NotFoundError("not a collection id");
    CAIRN_ASSIGN_OR_RETURN(auto collection, Load(std::string(id), ""));
    return Within(std::move(collection), inner);
  }
  if (top != kHome && top != kShared) return NotFoundError("no \"" + std::string(top) + "\"");
  int64_t mtime = 0;
  CAIRN_ASSIGN_OR_RETURN(auto entries,
                         Entries(top == kHome ? Scope::kOwned : Scope::kShared, &mtime));
  if (rest.empty()) return Node{.attr = TopDirectory(static_cast<uint32_t>(entries.size()), mtime)};
  auto [name, inner] = SplitFirst(rest);
  auto it = entries.find(std::string(name));
  if (it == entries.end()) return NotFoundError("no collection \"" + std::string(name) + "\"");
  if (inner.empty() && !load) return ListedRoot(it->second);
  CAIRN_ASSIGN_OR_RETURN(auto collection, Load(it->second.uuid, it->second.portable_data_hash));
  return Within(std::move(collection), inner);
}

Result<std::vector<std::pair<std::string, Attr>>> CollectionTree::List(std::string_view path) {
  std::vector<std::pair<std::string, Attr>> out;
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  auto [top, rest] = SplitFirst(path);
  if (options_.collection_id.empty() &&
      (path.empty() || ((top == kHome || top == kShared) && rest.empty()))) {
    if (path.empty()) {
      for (std::string_view name : {kById, kHome, kShared}) {
        CAIRN_ASSIGN_OR_RETURN(Node node, Resolve(name));
        out.emplace_back(std::string(name), node.attr);
      }
      return out;
    }
    int64_t mtime = 0;
    CAIRN_ASSIGN_OR_RETURN(auto entries,
                           Entries(top == kHome ? Scope::kOwned : Scope::kShared, &mtime));
    for (const auto& [name, c] : entries) {
      out.emplace_back(name, ListedRoot(c).attr);
    }
    return out;
  }
  if (options_.collection_id.empty() && top == kById && rest.empty()) return out;
  CAIRN_ASSIGN_OR_RETURN(Node node, Resolve(path, /*load=*/true));
  if (!node.attr.is_directory) return FailedPreconditionError("not a directory");
  const LoadedCollection& c = *node.collection;
  for (Manifest::NodeId child : c.manifest.Children(node.node)) {
    out.emplace_back(std::string(c.manifest.Name(child)), AttrOf(c, child));
  }
  return out;
}

}  // namespace cairn::mount
