// AccessControl: RabbitMQ's internal users and permissions, kept in the metadata column.
#include "broker/access_control.h"

#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <mutex>
#include <regex>

#include "base/status_macros.h"
#include "broker/base64.h"
#include "storage/keys.h"
#include "storage/records.pb.h"
#include "storage/store.h"

namespace burrow::broker {

namespace st = burrow::storage;

namespace {

const EVP_MD* digest_of(std::string_view algorithm) {
  if (algorithm == kSha256Hashing) return EVP_sha256();
  if (algorithm == kSha512Hashing) return EVP_sha512();
  if (algorithm == kMd5Hashing || algorithm.empty()) return EVP_md5();
  return nullptr;
}

std::string salted_hash(const EVP_MD* md, std::string_view salt, std::string_view password) {
  std::string input(salt);
  input.append(password);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, md, nullptr);
  std::string out(salt);
  out.append(reinterpret_cast<const char*>(digest), size);
  return out;
}

// RabbitMQ matches permissions with re:run(Name, Regex) - a search, not a full match - and
// treats an empty pattern as "^$" (matches nothing but the empty name).
std::regex compile_pattern(const std::string& pattern) {
  return std::regex(pattern.empty() ? std::string("^$") : pattern, std::regex::ECMAScript);
}

}  // namespace

std::string_view permission_name(Permission permission) {
  switch (permission) {
    case Permission::kConfigure:
      return "configure";
    case Permission::kWrite:
      return "write";
    case Permission::kRead:
      return "read";
  }
  return "?";
}

bool User::has_tag(std::string_view tag) const {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

std::string hash_password(std::string_view password, std::string_view salt) {
  return base64_encode(salted_hash(EVP_sha256(), salt, password));
}

std::string hash_password(std::string_view password) {
  // The kernel's CSPRNG: as strong as RAND_bytes, without initializing OpenSSL's DRBG on
  // burrowd's start path (the default user is hashed before the ready line).
  unsigned char salt[4];
  if (getrandom(salt, sizeof(salt), 0) != static_cast<ssize_t>(sizeof(salt))) {
    RAND_bytes(salt, sizeof(salt));
  }
  return hash_password(password, std::string_view(reinterpret_cast<const char*>(salt), 4));
}

bool password_matches(const User& user, std::string_view password) {
  if (password.empty() || user.password_hash.empty()) return false;
  const EVP_MD* md = digest_of(user.hashing_algorithm);
  if (md == nullptr) return false;
  auto stored = base64_decode(user.password_hash);
  if (!stored || stored->size() < 4) return false;
  const std::string computed = salted_hash(md, std::string_view(*stored).substr(0, 4), password);
  return computed.size() == stored->size() &&
         CRYPTO_memcmp(computed.data(), stored->data(), computed.size()) == 0;
}

struct AccessControl::Compiled {
  UserPermissions text;
  std::regex configure;
  std::regex write;
  std::regex read;
};

AccessControl::AccessControl(storage::Store* store) : store_(store) {}
AccessControl::~AccessControl() = default;

Result<std::shared_ptr<const AccessControl::Compiled>> AccessControl::compile(
    UserPermissions permissions) {
  auto compiled = std::make_shared<Compiled>();
  try {
    compiled->configure = compile_pattern(permissions.configure);
    compiled->write = compile_pattern(permissions.write);
    compiled->read = compile_pattern(permissions.read);
  } catch (const std::regex_error& e) {
    return invalid_argument("invalid regular expression in permissions of user '" +
                            permissions.user + "': " + e.what());
  }
  compiled->text = std::move(permissions);
  return std::shared_ptr<const Compiled>(std::move(compiled));
}

Status AccessControl::write(std::string key, std::string value, bool erase) {
  if (store_ == nullptr) return Status();
  st::WriteBatch batch;
  if (erase) {
    batch.del(st::Column::kMetadata, std::move(key));
  } else {
    batch.put(st::Column::kMetadata, std::move(key), std::move(value));
  }
  return store_->write_sync(std::move(batch));
}

Result<bool> AccessControl::load() {
  if (store_ == nullptr) return false;
  std::map<std::string, User, std::less<>> users;
  std::map<Key, std::shared_ptr<const Compiled>> permissions;
  Status bad;
  const std::string user_prefix = st::metadata_prefix(st::MetadataKind::kUser);
  RETURN_IF_ERROR(
      store_->scan(st::Column::kMetadata, st::ScanOptions{.prefix = user_prefix},
                   [&](std::string_view, std::string_view value) {
                     st::UserRecord record;
                     if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                       bad = internal_error("a stored user record does not parse");
                       return false;
                     }
                     User user{record.name(),
                               record.password_hash(),
                               record.hashing_algorithm(),
                               {record.tags().begin(), record.tags().end()}};
                     users.emplace(user.name, std::move(user));
                     return true;
                   }));
  RETURN_IF_ERROR(bad);
  const std::string permission_prefix = st::metadata_prefix(st::MetadataKind::kPermission);
  RETURN_IF_ERROR(store_->scan(
      st::Column::kMetadata, st::ScanOptions{.prefix = permission_prefix},
      [&](std::string_view, std::string_view value) {
        st::PermissionRecord record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          bad = internal_error("a stored permission record does not parse");
          return false;
        }
        auto compiled = compile(UserPermissions{record.vhost(), record.user(), record.configure(),
                                                record.write(), record.read()});
        if (!compiled.ok()) {
          bad = compiled.status();
          return false;
        }
        permissions.emplace(Key{record.vhost(), record.user()}, std::move(*compiled));
        return true;
      }));
  RETURN_IF_ERROR(bad);
  const bool any = !users.empty();
  std::unique_lock lock(mu_);
  users_ = std::move(users);
  permissions_ = std::move(permissions);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return any;
}

Status AccessControl::put_user(User user) {
  if (user.name.empty()) return invalid_argument("a user needs a name");
  if (digest_of(user.hashing_algorithm) == nullptr) {
    return invalid_argument("unknown hashing algorithm " + user.hashing_algorithm);
  }
  st::UserRecord record;
  record.set_name(user.name);
  record.set_password_hash(user.password_hash);
  record.set_hashing_algorithm(user.hashing_algorithm);
  for (const auto& tag : user.tags) record.add_tags(tag);
  RETURN_IF_ERROR(write(st::user_key(user.name), record.SerializeAsString(), false));
  std::unique_lock lock(mu_);
  users_[user.name] = std::move(user);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status();
}

Status AccessControl::delete_user(std::string_view name) {
  std::vector<Key> owned;
  {
    std::shared_lock lock(mu_);
    if (users_.find(name) == users_.end()) return not_found("user '" + std::string(name) + "'");
    for (const auto& [key, _] : permissions_) {
      if (key.second == name) owned.push_back(key);
    }
  }
  if (store_ != nullptr) {
    st::WriteBatch batch;
    batch.del(st::Column::kMetadata, st::user_key(name));
    for (const auto& key : owned) {
      batch.del(st::Column::kMetadata, st::permission_key(key.first, key.second));
    }
    RETURN_IF_ERROR(store_->write_sync(std::move(batch)));
  }
  std::unique_lock lock(mu_);
  if (auto it = users_.find(name); it != users_.end()) users_.erase(it);
  for (const auto& key : owned) permissions_.erase(key);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status();
}

std::optional<User> AccessControl::find_user(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = users_.find(name);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::vector<User> AccessControl::users() const {
  std::shared_lock lock(mu_);
  std::vector<User> out;
  out.reserve(users_.size());
  for (const auto& [_, user] : users_) out.push_back(user);
  return out;
}

Status AccessControl::set_permissions(UserPermissions permissions) {
  {
    std::shared_lock lock(mu_);
    if (users_.find(permissions.user) == users_.end()) {
      return invalid_argument("no such user '" + permissions.user + "'");
    }
  }
  ASSIGN_OR_RETURN(auto compiled, compile(permissions));
  st::PermissionRecord record;
  record.set_vhost(permissions.vhost);
  record.set_user(permissions.user);
  record.set_configure(permissions.configure);
  record.set_write(permissions.write);
  record.set_read(permissions.read);
  RETURN_IF_ERROR(write(st::permission_key(permissions.vhost, permissions.user),
                        record.SerializeAsString(), false));
  std::unique_lock lock(mu_);
  permissions_[Key{permissions.vhost, permissions.user}] = std::move(compiled);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status();
}

Status AccessControl::clear_permissions(std::string_view vhost, std::string_view user) {
  const Key key{std::string(vhost), std::string(user)};
  {
    std::shared_lock lock(mu_);
    if (permissions_.find(key) == permissions_.end()) {
      return not_found("no permissions for user '" + key.second + "' in vhost '" + key.first + "'");
    }
  }
  RETURN_IF_ERROR(write(st::permission_key(vhost, user), {}, true));
  std::unique_lock lock(mu_);
  permissions_.erase(key);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status();
}

std::vector<UserPermissions> AccessControl::permissions() const {
  std::shared_lock lock(mu_);
  std::vector<UserPermissions> out;
  out.reserve(permissions_.size());
  for (const auto& [_, compiled] : permissions_) out.push_back(compiled->text);
  return out;
}

std::optional<UserPermissions> AccessControl::find_permissions(std::string_view vhost,
                                                               std::string_view user) const {
  std::shared_lock lock(mu_);
  auto it = permissions_.find(Key{std::string(vhost), std::string(user)});
  if (it == permissions_.end()) return std::nullopt;
  return it->second->text;
}

Status AccessControl::forget_vhost(std::string_view vhost) {
  std::vector<Key> owned;
  {
    std::shared_lock lock(mu_);
    for (const auto& [key, _] : permissions_) {
      if (key.first == vhost) owned.push_back(key);
    }
  }
  if (owned.empty()) return Status();
  if (store_ != nullptr) {
    st::WriteBatch batch;
    for (const auto& key : owned) {
      batch.del(st::Column::kMetadata, st::permission_key(key.first, key.second));
    }
    RETURN_IF_ERROR(store_->write_sync(std::move(batch)));
  }
  std::unique_lock lock(mu_);
  for (const auto& key : owned) permissions_.erase(key);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status();
}

Status AccessControl::authenticate(std::string_view user, std::string_view password,
                                   bool from_loopback,
                                   const std::vector<std::string>& loopback_users) const {
  const std::string name(user);
  {
    std::shared_lock lock(mu_);
    auto it = users_.find(user);
    if (it == users_.end() || !password_matches(it->second, password)) {
      return access_refused("user '" + name + "' - invalid credentials");
    }
  }
  if (!from_loopback &&
      std::find(loopback_users.begin(), loopback_users.end(), name) != loopback_users.end()) {
    return access_refused("user '" + name + "' can only connect via localhost");
  }
  return Status();
}

Status AccessControl::check_vhost_access(std::string_view user, std::string_view vhost) const {
  {
    std::shared_lock lock(mu_);
    if (permissions_.count(Key{std::string(vhost), std::string(user)}) != 0) return Status();
  }
  return not_allowed("access to vhost '" + std::string(vhost) + "' refused for user '" +
                     std::string(user) + "'");
}

Status AccessControl::check(std::string_view user, std::string_view vhost, Permission permission,
                            std::string_view kind, std::string_view name) const {
  std::shared_ptr<const Compiled> compiled;
  {
    std::shared_lock lock(mu_);
    auto it = permissions_.find(Key{std::string(vhost), std::string(user)});
    if (it != permissions_.end()) compiled = it->second;
  }
  if (compiled) {
    const std::regex& pattern = permission == Permission::kConfigure ? compiled->configure
                                : permission == Permission::kWrite   ? compiled->write
                                                                     : compiled->read;
    if (std::regex_search(name.begin(), name.end(), pattern)) return Status();
  }
  return access_refused("access to " + std::string(kind) + " '" + std::string(name) +
                        "' in vhost '" + std::string(vhost) + "' refused for user '" +
                        std::string(user) + "'");
}

}  // namespace burrow::broker
