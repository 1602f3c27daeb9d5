#include "cairn/objstore/mpu/session.h"

#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "cairn/common/hash.h"

namespace cairn::objstore::mpu {
namespace {

using Json = nlohmann::json;

constexpr int kSessionVersion = 1;
constexpr int kReceiptVersion = 1;

// Checked access to a JSON object's fields: nlohmann throws on a type mismatch, so every read
// checks the type first and names the field when it is wrong.
class Fields {
 public:
  Fields(const Json& object, std::string what) : object_(object), what_(std::move(what)) {}

  const Json* Find(const char* name) const {
    auto it = object_.find(name);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  Result<std::string> String(const char* name) const {
    const Json* v = Find(name);
    if (v == nullptr || !v->is_string()) return Missing(name, "a string");
    return v->get<std::string>();
  }
  std::string OptionalString(const char* name) const {
    const Json* v = Find(name);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
  }
  Result<int64_t> Int(const char* name) const {
    const Json* v = Find(name);
    if (v == nullptr || !v->is_number_integer()) return Missing(name, "an integer");
    return v->get<int64_t>();
  }
  Result<uint64_t> Size(const char* name) const {
    const Json* v = Find(name);
    if (v == nullptr || !v->is_number_unsigned()) return Missing(name, "a non-negative integer");
    return v->get<uint64_t>();
  }
  Result<const Json*> Array(const char* name) const {
    const Json* v = Find(name);
    if (v == nullptr || !v->is_array()) return Missing(name, "an array");
    return v;
  }

 private:
  Status Missing(const char* name, const char* type) const {
    return InvalidArgumentError(what_ + ": \"" + name + "\" must be " + type);
  }
  const Json& object_;
  std::string what_;
};

Result<Json> ParseObject(std::string_view text, const char* what) {
  Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return InvalidArgumentError(std::string(what) + " is not a JSON object");
  }
  return json;
}

std::string Dump(const Json& json, int indent) {
  // replace: a key that is not UTF-8 must not throw; S3 keys are UTF-8 anyway.
  return json.dump(indent, ' ', false, Json::error_handler_t::replace) + "\n";
}

const char* AddressingName(s3::AddressingStyle style) {
  switch (style) {
    case s3::AddressingStyle::kPath:
      return "path";
    case s3::AddressingStyle::kVirtualHost:
      return "virtual";
    case s3::AddressingStyle::kAuto:
      break;
  }
  return "auto";
}

bool IsMd5Hex(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Json PieceJson(const PieceRecord& piece, bool with_number) {
  Json j = Json::object();
  if (with_number) j["part"] = piece.part_number;
  j["size"] = piece.size;
  j["md5"] = piece.md5;
  j["etag"] = piece.etag;
  return j;
}

Result<PieceRecord> ParsePiece(const Json& json, const std::string& what, bool with_number) {
  if (!json.is_object()) return InvalidArgumentError(what + " is not an object");
  Fields f(json, what);
  PieceRecord piece;
  if (with_number) {
    CAIRN_ASSIGN_OR_RETURN(int64_t number, f.Int("part"));
    if (number < 1 || number > kMaxParts) {
      return InvalidArgumentError(what + ": part number " + std::to_string(number) +
                                  " is outside 1.." + std::to_string(kMaxParts));
    }
    piece.part_number = static_cast<int>(number);
  }
  CAIRN_ASSIGN_OR_RETURN(piece.size, f.Size("size"));
  CAIRN_ASSIGN_OR_RETURN(piece.md5, f.String("md5"));
  CAIRN_ASSIGN_OR_RETURN(piece.etag, f.String("etag"));
  if (!IsMd5Hex(piece.md5)) return InvalidArgumentError(what + ": \"md5\" is not 32 hex digits");
  return piece;
}

Result<Session> ParseSessionJson(const Json& json) {
  Fields f(json, "session");
  CAIRN_ASSIGN_OR_RETURN(int64_t version, f.Int("cairn_mpu_session"));
  if (version != kSessionVersion) {
    return InvalidArgumentError("session version " + std::to_string(version) +
                                " is not one this cairn reads (" + std::to_string(kSessionVersion) +
                                ")");
  }
  Session s;
  s.endpoint = f.OptionalString("endpoint");
  CAIRN_ASSIGN_OR_RETURN(s.region, f.String("region"));
  const std::string addressing = f.OptionalString("addressing");
  s.addressing = addressing == "path"      ? s3::AddressingStyle::kPath
                 : addressing == "virtual" ? s3::AddressingStyle::kVirtualHost
                                           : s3::AddressingStyle::kAuto;
  CAIRN_ASSIGN_OR_RETURN(s.bucket, f.String("bucket"));
  CAIRN_ASSIGN_OR_RETURN(s.key, f.String("key"));
  CAIRN_ASSIGN_OR_RETURN(s.upload_id, f.String("upload_id"));
  CAIRN_ASSIGN_OR_RETURN(int64_t workers, f.Int("workers"));
  CAIRN_ASSIGN_OR_RETURN(int64_t max_parts, f.Int("max_parts"));
  if (workers < 1 || workers > kMaxWorkers || max_parts < 2 || max_parts > kMaxParts) {
    return InvalidArgumentError("session: " + std::to_string(workers) + " workers in " +
                                std::to_string(max_parts) + " parts is not a valid plan");
  }
  s.workers = static_cast<int>(workers);
  s.max_parts = static_cast<int>(max_parts);
  CAIRN_RETURN_IF_ERROR(PartPlan::Create(s.workers, s.max_parts).status());
  CAIRN_ASSIGN_OR_RETURN(s.part_size, f.Size("part_size"));
  CAIRN_ASSIGN_OR_RETURN(s.min_part_size, f.Size("min_part_size"));
  if (s.min_part_size == 0 || s.part_size < s.min_part_size) {
    return InvalidArgumentError("session: part size " + std::to_string(s.part_size) +
                                " must be at least the minimum part size " +
                                std::to_string(s.min_part_size) + ", which must be positive");
  }
  CAIRN_ASSIGN_OR_RETURN(s.created, f.Int("created"));
  CAIRN_ASSIGN_OR_RETURN(s.deadline, f.Int("deadline"));
  CAIRN_ASSIGN_OR_RETURN(s.temp_prefix, f.String("temp_prefix"));
  if (s.bucket.empty() || s.key.empty() || s.upload_id.empty() || s.temp_prefix.empty()) {
    return InvalidArgumentError("session: bucket, key, upload id and temp prefix must be set");
  }
  if (const Json* presigned = f.Find("presigned"); presigned != nullptr) {
    if (!presigned->is_array() || presigned->size() != static_cast<size_t>(s.workers)) {
      return InvalidArgumentError("session: \"presigned\" must list every worker");
    }
    const PartPlan plan = s.plan();
    for (size_t w = 0; w < presigned->size(); ++w) {
      const std::string what = "session: presigned URLs of worker " + std::to_string(w);
      const Json& entry = (*presigned)[w];
      if (!entry.is_object()) return InvalidArgumentError(what + " are not an object");
      Fields pf(entry, what);
      PresignedWorker p;
      CAIRN_ASSIGN_OR_RETURN(p.head_url, pf.String("head"));
      p.head_part_url = pf.OptionalString("head_part");
      CAIRN_ASSIGN_OR_RETURN(const Json* parts, pf.Array("parts"));
      for (const Json& url : *parts) {
        if (!url.is_string()) return InvalidArgumentError(what + ": a part URL is not a string");
        p.part_urls.push_back(url.get<std::string>());
      }
      if (p.part_urls.size() != static_cast<size_t>(plan.Slots(static_cast<int>(w)).part_count())) {
        return InvalidArgumentError(what + ": one URL per regular part number is needed");
      }
      s.presigned.push_back(std::move(p));
    }
  }
  return s;
}

Result<Receipt> ParseReceiptJson(const Json& json) {
  Fields f(json, "receipt");
  CAIRN_ASSIGN_OR_RETURN(int64_t version, f.Int("cairn_mpu_receipt"));
  if (version != kReceiptVersion) {
    return InvalidArgumentError("receipt version " + std::to_string(version) + " is unknown");
  }
  Receipt r;
  CAIRN_ASSIGN_OR_RETURN(r.upload_id, f.String("upload_id"));
  CAIRN_ASSIGN_OR_RETURN(int64_t worker, f.Int("worker"));
  if (worker < 0 || worker >= kMaxWorkers) {
    return InvalidArgumentError("receipt: worker " + std::to_string(worker) + " is out of range");
  }
  r.worker = static_cast<int>(worker);
  const std::string what = "receipt of worker " + std::to_string(r.worker);
  r.run = f.OptionalString("run");
  r.error = f.OptionalString("error");
  if (const Json* finished = f.Find("finished"); finished && finished->is_number_integer()) {
    r.finished = finished->get<int64_t>();
  }
  if (r.failed()) return r;
  CAIRN_ASSIGN_OR_RETURN(r.size, f.Size("size"));
  if (const Json* head = f.Find("head"); head != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(PieceRecord piece, ParsePiece(*head, what + ": head", false));
    r.head = std::move(piece);
  }
  if (const Json* head_part = f.Find("head_part"); head_part != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(PieceRecord piece, ParsePiece(*head_part, what + ": head part", true));
    r.head_part = std::move(piece);
  }
  CAIRN_ASSIGN_OR_RETURN(const Json* parts, f.Array("parts"));
  uint64_t total = r.head ? r.head->size : 0;
  for (size_t i = 0; i < parts->size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(PieceRecord piece,
                           ParsePiece((*parts)[i], what + ": part " + std::to_string(i), true));
    if (!r.parts.empty() && piece.part_number <= r.parts.back().part_number) {
      return InvalidArgumentError(what + ": part numbers must ascend");
    }
    total += piece.size;
    r.parts.push_back(std::move(piece));
  }
  if (total != r.size) {
    return InvalidArgumentError(what + ": its pieces add up to " + std::to_string(total) +
                                " bytes, not the " + std::to_string(r.size) + " it claims");
  }
  return r;
}

}  // namespace

PartPlan Session::plan() const {
  Result<PartPlan> plan = PartPlan::Create(workers, max_parts);
  return plan.ok() ? *plan : *PartPlan::Create(1, kMaxParts);
}

std::string Session::HeadKey(int worker) const {
  char name[16];
  std::snprintf(name, sizeof name, "w%05d", worker);
  return temp_prefix + name;
}

std::string TempPrefixFor(std::string_view key, std::string_view upload_id) {
  return std::string(key) + ".cairn-mpu/" + Sha256Hex(upload_id).substr(0, 16) + "/";
}

std::string SessionToJson(const Session& s) {
  Json j = Json::object();
  j["cairn_mpu_session"] = kSessionVersion;
  j["endpoint"] = s.endpoint;
  j["region"] = s.region;
  j["addressing"] = AddressingName(s.addressing);
  j["bucket"] = s.bucket;
  j["key"] = s.key;
  j["upload_id"] = s.upload_id;
  j["workers"] = s.workers;
  j["max_parts"] = s.max_parts;
  j["part_size"] = s.part_size;
  j["min_part_size"] = s.min_part_size;
  j["created"] = s.created;
  j["deadline"] = s.deadline;
  j["temp_prefix"] = s.temp_prefix;
  // The plan, for people and other tools; ParseSession recomputes it from workers and max_parts.
  Json plan = Json::array();
  const PartPlan p = s.plan();
  for (int w = 0; w < s.workers; ++w) {
    WorkerSlots slots = p.Slots(w);
    plan.push_back(Json{{"worker", w},
                        {"head_part", slots.head_part},
                        {"first_part", slots.first_part},
                        {"last_part", slots.last_part},
                        {"head_key", s.HeadKey(w)}});
  }
  j["plan"] = std::move(plan);
  if (s.is_presigned()) {
    Json presigned = Json::array();
    for (const PresignedWorker& w : s.presigned) {
      Json entry{{"head", w.head_url}, {"parts", w.part_urls}};
      if (!w.head_part_url.empty()) entry["head_part"] = w.head_part_url;
      presigned.push_back(std::move(entry));
    }
    j["presigned"] = std::move(presigned);
  }
  return Dump(j, 2);
}

Result<Session> ParseSession(std::string_view json) {
  CAIRN_ASSIGN_OR_RETURN(Json parsed, ParseObject(json, "the session"));
  try {
    return ParseSessionJson(parsed);
  } catch (const std::exception& e) {  // nlohmann::json; the checks above should prevent it
    return InvalidArgumentError(std::string("the session is malformed: ") + e.what());
  }
}

std::string ReceiptToJson(const Receipt& r) {
  Json j = Json::object();
  j["cairn_mpu_receipt"] = kReceiptVersion;
  j["upload_id"] = r.upload_id;
  j["worker"] = r.worker;
  j["run"] = r.run;
  j["finished"] = r.finished;
  if (r.failed()) {
    j["error"] = r.error;
    return Dump(j, -1);
  }
  j["size"] = r.size;
  if (r.head) j["head"] = PieceJson(*r.head, false);
  if (r.head_part) j["head_part"] = PieceJson(*r.head_part, true);
  Json parts = Json::array();
  for (const PieceRecord& p : r.parts) parts.push_back(PieceJson(p, true));
  j["parts"] = std::move(parts);
  return Dump(j, -1);
}

Result<Receipt> ParseReceipt(std::string_view json) {
  CAIRN_ASSIGN_OR_RETURN(Json parsed, ParseObject(json, "the receipt"));
  try {
    return ParseReceiptJson(parsed);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("the receipt is malformed: ") + e.what());
  }
}

Result<int64_t> ParseDurationSeconds(std::string_view text) {
  int64_t total = 0;
  size_t i = 0;
  if (text.empty()) return InvalidArgumentError("an empty duration");
  while (i < text.size()) {
    int64_t n = 0;
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 12) {
      n = n * 10 + (text[i++] - '0');
      ++digits;
    }
    if (digits == 0 || i >= text.size()) {
      return InvalidArgumentError("duration \"" + std::string(text) +
                                  "\" is not like 90s, 30m, 2h, 1d or 1h30m");
    }
    const char unit = text[i++];
    const int64_t scale = unit == 's'   ? 1
                          : unit == 'm' ? 60
                          : unit == 'h' ? 3600
                          : unit == 'd' ? 86400
                                        : 0;
    if (scale == 0) {
      return InvalidArgumentError("duration \"" + std::string(text) + "\": unknown unit '" +
                                  std::string(1, unit) + "' (s, m, h or d)");
    }
    total += n * scale;
  }
  if (total <= 0) return InvalidArgumentError("a duration must be positive");
  return total;
}

}  // namespace cairn::objstore::mpu
