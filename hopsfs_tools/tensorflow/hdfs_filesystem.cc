// TensorFlow modular filesystem plugin for hdfs://, viewfs:// and hopsfs:// over libhdfs (JNI).
//
// Built by hopsfs_tools/tensorflow/plugin.py against the installed TF's
// tensorflow/c/experimental/filesystem/filesystem_interface.h, configured through
// hopsfs_tf_configure() (from Python, before registration) and loaded with
// tf.experimental.register_filesystem_plugin. Paths: hdfs://host:port/p and viewfs://name/p
// name their cluster, hdfs:///p the configured default one; hopsfs://rel is relative to the
// configured project root and hopsfs:///abs absolute (as hopsfs_tools.project.resolve).
#include <errno.h>
#include <fcntl.h>
#include <jni.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "tensorflow/c/experimental/filesystem/filesystem_interface.h"
#include "tensorflow/c/tf_status.h"


// -- the part of libhdfs's C API (hdfs.h) this plugin calls -----------------------------------
extern "C" {
typedef void* hdfsFS;
typedef void* hdfsFile;
struct hdfsBuilder;
typedef struct {
  int mKind;  // 'F' or 'D'
  char* mName;
  long mLastMod;  // seconds
  int64_t mSize;
  short mReplication;
  int64_t mBlockSize;
  char* mOwner;
  char* mGroup;
  short mPermissions;
  long mLastAccess;
} hdfsFileInfo;
struct hdfsBuilder* hdfsNewBuilder(void);
void hdfsBuilderSetNameNode(struct hdfsBuilder*, const char*);
void hdfsBuilderSetUserName(struct hdfsBuilder*, const char*);
void hdfsBuilderSetKerbTicketCachePath(struct hdfsBuilder*, const char*);
void hdfsBuilderSetForceNewInstance(struct hdfsBuilder*);
int hdfsBuilderConfSetStr(struct hdfsBuilder*, const char*, const char*);
hdfsFS hdfsBuilderConnect(struct hdfsBuilder*);
hdfsFile hdfsOpenFile(hdfsFS, const char*, int, int, short, int32_t);
int hdfsCloseFile(hdfsFS, hdfsFile);
int32_t hdfsRead(hdfsFS, hdfsFile, void*, int32_t);
int hdfsSeek(hdfsFS, hdfsFile, int64_t);
int32_t hdfsWrite(hdfsFS, hdfsFile, const void*, int32_t);
int hdfsHFlush(hdfsFS, hdfsFile);
int hdfsHSync(hdfsFS, hdfsFile);
hdfsFileInfo* hdfsListDirectory(hdfsFS, const char*, int*);
void hdfsFreeFileInfo(hdfsFileInfo*, int);
int hdfsCreateDirectory(hdfsFS, const char*);
int hdfsDelete(hdfsFS, const char*, int);
int hdfsCopy(hdfsFS, const char*, hdfsFS, const char*);
// google/crc32c's C API (the library google-crc32c computes with: see plugin.crc32c_library)
uint32_t crc32c_extend(uint32_t crc, const uint8_t* data, size_t count);
}

namespace {

constexpr int kInternal = 255;            // libhdfs's errno for an unmapped Java exception
constexpr int32_t kMaxCall = 8 << 20;     // bytes per hdfsRead/hdfsWrite call

// -- configuration (hopsfs_tf_configure) -------------------------------------------------------

struct Settings {
  bool configured = false;
  std::string default_fs;    // "hdfs://host:port" or "hdfs://nameservice"
  std::string user;          // HDFS user ("" = the JVM's login user / Kerberos principal)
  std::string ticket_cache;  // Kerberos ticket cache ("" = none)
  std::string project_root;  // "/Projects/P" ("" = no project: hopsfs://rel is an error)
  std::string no_project;    // the message for hopsfs://rel without a project
  std::string no_default;    // why there is no default cluster ("" = none configured)
  std::string kerberos_hint; // what to do when Kerberos authentication fails ("" = no Kerberos)
  std::string classpath;     // the JVM's class path, if this plugin starts the JVM
  std::vector<std::string> jvm_options;
  std::vector<std::pair<std::string, std::string>> conf;  // Hadoop properties per connection
};

std::mutex g_mutex;  // guards g_settings, g_connections and JVM creation
// Replaced whole by hopsfs_tf_configure: a call copies the pointer, not the class path and conf.
std::shared_ptr<const Settings> g_settings = std::make_shared<const Settings>();
std::map<std::string, hdfsFS> g_connections;  // "scheme://authority|user" -> connection

// -- statuses ----------------------------------------------------------------------------------

void Fail(TF_Status* status, TF_Code code, const std::string& message) {
  TF_SetStatus(status, code, message.c_str());
}

TF_Code CodeOfErrno(int err) {
  switch (err) {
    case ENOENT: return TF_NOT_FOUND;
    case EACCES: case EPERM: return TF_PERMISSION_DENIED;
    case EEXIST: return TF_ALREADY_EXISTS;
    case ENOTDIR: case EISDIR: case ENOTEMPTY: return TF_FAILED_PRECONDITION;
    case EINVAL: return TF_INVALID_ARGUMENT;
    case EDQUOT: case ENOSPC: case ENOMEM: return TF_RESOURCE_EXHAUSTED;
    case EROFS: case ECONNREFUSED: case ETIMEDOUT: case EHOSTUNREACH: return TF_UNAVAILABLE;
    default: return TF_UNKNOWN;
  }
}

// -- paths -------------------------------------------------------------------------------------

struct Target {
  std::string cluster;  // connection URI: "hdfs://host:port", "viewfs://name", default_fs
  std::string path;     // absolute, normalised HDFS path
  std::string uri;      // cluster + path, for messages
  hdfsFS fs = nullptr;  // its connection, once made
};

std::string Normalize(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  std::string item;
  while (std::getline(in, item, '/')) {
    if (item.empty() || item == ".") continue;
    if (item == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(item);
    }
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

bool Resolve(const std::string& uri, Target* target, TF_Status* status) {
  size_t sep = uri.find("://");
  std::string scheme = sep == std::string::npos ? "" : uri.substr(0, sep);
  std::string rest = sep == std::string::npos ? uri : uri.substr(sep + 3);
  std::shared_ptr<const Settings> current;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    current = g_settings;
  }
  const Settings& settings = *current;
  if (!settings.configured) {
    Fail(status, TF_FAILED_PRECONDITION,
         "the hopsfs-tools TensorFlow plugin is not configured: call "
         "hopsfs_tools.tensorflow.register() (or import hopsfs_tools.tensorflow) first");
    return false;
  }
  const std::string no_default =
      "no default HDFS cluster for " + uri + ": " +
      (settings.no_default.empty()
           ? "set HADOOP_CONF_DIR or HOPSFS_NAMENODE_URI and call "
             "hopsfs_tools.tensorflow.register(), or write hdfs://host:port/path"
           : settings.no_default);
  if (scheme == "hopsfs") {
    size_t slash = rest.find('/');
    std::string host = rest.substr(0, slash);
    if (host.find(':') != std::string::npos) {
      Fail(status, TF_INVALID_ARGUMENT,
           "URL " + uri + " names a host (" + host + "), but hopsfs:// URLs take the cluster "
           "from the configuration: write hopsfs:///" +
               (slash == std::string::npos ? "" : rest.substr(slash + 1)) + " or hdfs://" +
               rest);
      return false;
    }
    if (!rest.empty() && rest[0] != '/') {
      if (settings.project_root.empty()) {
        Fail(status, TF_FAILED_PRECONDITION, "cannot resolve " + uri + ": " + settings.no_project);
        return false;
      }
      rest = settings.project_root + "/" + rest;
    }
    if (settings.default_fs.empty()) {
      Fail(status, TF_FAILED_PRECONDITION, no_default);
      return false;
    }
    target->cluster = settings.default_fs;
    target->path = Normalize(rest);
  } else if (scheme == "hdfs" || scheme == "viewfs") {
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    if (authority.empty() && settings.default_fs.empty()) {
      Fail(status, TF_FAILED_PRECONDITION, no_default);
      return false;
    }
    target->cluster = authority.empty() ? settings.default_fs : scheme + "://" + authority;
    target->path = Normalize(slash == std::string::npos ? "/" : rest.substr(slash));
  } else {
    Fail(status, TF_INVALID_ARGUMENT, "not an hdfs://, viewfs:// or hopsfs:// URL: " + uri);
    return false;
  }
  target->uri = target->cluster + target->path;
  return true;
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// -- the JVM and connections -------------------------------------------------------------------

// Start the JVM with our class path unless one runs already (libhdfs then attaches to it), so
// that no CLASSPATH/LIBHDFS_OPTS need to be written into the process environment.
bool EnsureJvm(const Settings& settings, TF_Status* status) {
  JavaVM* vms[1];
  jsize count = 0;
  if (JNI_GetCreatedJavaVMs(vms, 1, &count) != JNI_OK) {
    Fail(status, TF_INTERNAL, "JNI_GetCreatedJavaVMs failed");
    return false;
  }
  if (count > 0) return true;
  std::vector<std::string> strings = {"-Djava.class.path=" + settings.classpath};
  strings.insert(strings.end(), settings.jvm_options.begin(), settings.jvm_options.end());
  std::vector<JavaVMOption> options(strings.size());
  for (size_t i = 0; i < strings.size(); ++i) {
    options[i].optionString = const_cast<char*>(strings[i].c_str());
    options[i].extraInfo = nullptr;
  }
  JavaVMInitArgs args;
  args.version = JNI_VERSION_1_8;
  args.nOptions = static_cast<jint>(options.size());
  args.options = options.data();
  args.ignoreUnrecognized = JNI_TRUE;
  JavaVM* vm = nullptr;
  JNIEnv* env = nullptr;
  jint rc = JNI_CreateJavaVM(&vm, reinterpret_cast<void**>(&env), &args);
  if (rc != JNI_OK) {
    Fail(status, TF_INTERNAL, "could not start the Java VM for libhdfs (JNI error " +
                                  std::to_string(rc) + "); check JAVA_HOME");
    return false;
  }
  vm->DetachCurrentThread();  // libhdfs attaches (and detaches) the threads that call it
  return true;
}

bool NamenodeRefuses(const std::string& cluster) {
  size_t sep = cluster.find("://");
  std::string authority = cluster.substr(sep + 3);
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos) return false;  // a nameservice: nothing to probe
  std::string host = authority.substr(0, colon), port = authority.substr(colon + 1);
  addrinfo hints{}, *found = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return true;
  int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  bool refused = fd < 0 || connect(fd, found->ai_addr, found->ai_addrlen) != 0;
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  return refused;
}

// viewfs://name needs fs.viewfs.mounttable.name.* in the Hadoop configuration, which libhdfs's
// ViewFileSystem follows; without it, say so (instead of libhdfs's Java stack trace).
bool HasMountTable(const Settings& s, const std::string& cluster, TF_Status* status) {
  if (cluster.rfind("viewfs://", 0) != 0) return true;
  std::string name = cluster.substr(9);
  std::string prefix = "fs.viewfs.mounttable." + name + ".";
  for (const auto& kv : s.conf) {
    if (kv.first.rfind(prefix, 0) == 0) return true;
  }
  Fail(status, TF_FAILED_PRECONDITION,
       cluster + " has no mount table: this plugin's client, libhdfs (Hadoop's Java "
       "ViewFileSystem), follows " + prefix + "link.<path> properties from core-site.xml in "
       "HADOOP_CONF_DIR, and none is set there; add them, or use hdfs://");
  return false;
}

hdfsFS Connect(const Target& target, TF_Status* status) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const Settings& s = *g_settings;
  std::string key = target.cluster + "|" + s.user + "|" + s.ticket_cache;
  auto it = g_connections.find(key);
  if (it != g_connections.end()) return it->second;
  if (!HasMountTable(s, target.cluster, status) || !EnsureJvm(s, status)) return nullptr;
  hdfsBuilder* builder = hdfsNewBuilder();
  hdfsBuilderSetNameNode(builder, target.cluster.c_str());
  if (!s.user.empty()) hdfsBuilderSetUserName(builder, s.user.c_str());
  if (!s.ticket_cache.empty()) hdfsBuilderSetKerbTicketCachePath(builder, s.ticket_cache.c_str());
  hdfsBuilderSetForceNewInstance(builder);
  for (const auto& kv : s.conf) hdfsBuilderConfSetStr(builder, kv.first.c_str(), kv.second.c_str());
  hdfsFS fs = hdfsBuilderConnect(builder);  // frees the builder
  if (fs == nullptr) {
    Fail(status, TF_UNAVAILABLE, "cannot connect to " + target.cluster + " through libhdfs (errno " +
                                     std::to_string(errno) + "; the Java stack trace is on stderr)");
    return nullptr;
  }
  g_connections[key] = fs;
  return fs;
}

// -- Java: what libhdfs does not tell -----------------------------------------------------------

// This thread's JNIEnv (attached as a daemon if needed); nullptr without a JVM.
JNIEnv* AttachedEnv() {
  JavaVM* vms[1];
  jsize count = 0;
  JNIEnv* env = nullptr;
  if (JNI_GetCreatedJavaVMs(vms, 1, &count) != JNI_OK || count == 0) return nullptr;
  if (vms[0]->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) == JNI_OK) return env;
  if (vms[0]->AttachCurrentThreadAsDaemon(reinterpret_cast<void**>(&env), nullptr) != JNI_OK) {
    return nullptr;
  }
  return env;
}

// Classes and methods of the metadata calls made through JNI, looked up once (global refs).
struct Java {
  jclass path, file_system, file_status, not_found, access_denied, not_directory;
  jmethodID path_init, get_status, list_status, is_directory, length, mtime, get_path, name;
};

const Java* JavaClasses(JNIEnv* env) {
  static std::once_flag once;
  static Java java;
  static bool found = false;
  std::call_once(once, [env] {
    auto global = [env](const char* name) {
      jclass local = env->FindClass(name);
      return local == nullptr ? nullptr : static_cast<jclass>(env->NewGlobalRef(local));
    };
    java.path = global("org/apache/hadoop/fs/Path");
    java.file_system = global("org/apache/hadoop/fs/FileSystem");
    java.file_status = global("org/apache/hadoop/fs/FileStatus");
    java.not_found = global("java/io/FileNotFoundException");
    java.access_denied = global("org/apache/hadoop/security/AccessControlException");
    java.not_directory = global("org/apache/hadoop/fs/ParentNotDirectoryException");
    if (env->ExceptionCheck()) return env->ExceptionClear();
    java.path_init = env->GetMethodID(java.path, "<init>", "(Ljava/lang/String;)V");
    java.get_status = env->GetMethodID(java.file_system, "getFileStatus",
                                       "(Lorg/apache/hadoop/fs/Path;)Lorg/apache/hadoop/fs/FileStatus;");
    java.list_status = env->GetMethodID(java.file_system, "listStatus",
                                        "(Lorg/apache/hadoop/fs/Path;)[Lorg/apache/hadoop/fs/FileStatus;");
    java.is_directory = env->GetMethodID(java.file_status, "isDirectory", "()Z");
    java.length = env->GetMethodID(java.file_status, "getLen", "()J");
    java.mtime = env->GetMethodID(java.file_status, "getModificationTime", "()J");
    java.get_path = env->GetMethodID(java.file_status, "getPath", "()Lorg/apache/hadoop/fs/Path;");
    java.name = env->GetMethodID(java.path, "getName", "()Ljava/lang/String;");
    if (env->ExceptionCheck()) return env->ExceptionClear();
    found = true;
  });
  return found ? &java : nullptr;
}

// The errno a Java exception stands for: ENOENT, EACCES, ENOTDIR, else libhdfs's kInternal.
int ErrnoOf(JNIEnv* env, const Java& java, jthrowable error) {
  if (env->IsInstanceOf(error, java.not_found)) return ENOENT;
  if (env->IsInstanceOf(error, java.access_denied)) return EACCES;
  if (env->IsInstanceOf(error, java.not_directory)) return ENOTDIR;
  return kInternal;
}

struct FileInfo {
  int64_t size = 0;
  int64_t mtime_ms = 0;
};

enum class Kind { kMissing, kFile, kDirectory, kError };

// FileSystem.getFileStatus(path) through JNI: one NameNode call (libhdfs's hdfsGetPathInfo
// makes two: exists, then getFileStatus). On kError, `*err` is the failure's errno.
Kind JavaStat(hdfsFS fs, const std::string& path, int* err, FileInfo* out) {
  JNIEnv* env = AttachedEnv();
  const Java* java = env == nullptr ? nullptr : JavaClasses(env);
  *err = kInternal;
  if (java == nullptr) return Kind::kError;
  env->PushLocalFrame(8);
  jobject jpath = env->NewObject(java->path, java->path_init, env->NewStringUTF(path.c_str()));
  jobject stat = env->ExceptionCheck()
                     ? nullptr
                     : env->CallObjectMethod(static_cast<jobject>(fs), java->get_status, jpath);
  Kind kind = Kind::kError;
  if (jthrowable error = env->ExceptionOccurred()) {
    env->ExceptionClear();
    *err = ErrnoOf(env, *java, error);
    if (*err == ENOENT) kind = Kind::kMissing;
  } else if (stat != nullptr) {
    kind = env->CallBooleanMethod(stat, java->is_directory) ? Kind::kDirectory : Kind::kFile;
    if (out != nullptr) {
      out->size = env->CallLongMethod(stat, java->length);
      out->mtime_ms = env->CallLongMethod(stat, java->mtime);
    }
    *err = 0;
  }
  env->PopLocalFrame(nullptr);
  return kind;
}

std::string JavaString(JNIEnv* env, jobject object, const char* cls, const char* method) {
  jclass klass = env->FindClass(cls);
  jmethodID id = env->GetMethodID(klass, method, "()Ljava/lang/String;");
  auto text = static_cast<jstring>(env->CallObjectMethod(object, id));
  if (env->ExceptionCheck() || text == nullptr) {
    env->ExceptionClear();
    return "";
  }
  const char* chars = env->GetStringUTFChars(text, nullptr);
  std::string out(chars);
  env->ReleaseStringUTFChars(text, chars);
  return out;
}

// The root cause of the exception getFileStatus(path) raises now ("" if none): libhdfs maps an
// exception it does not know to errno 255 and prints it, so a failure is asked about again.
std::string JavaFailure(hdfsFS fs, const std::string& path) {
  JNIEnv* env = AttachedEnv();
  if (env == nullptr || fs == nullptr) return "";
  env->PushLocalFrame(16);
  jclass path_class = env->FindClass("org/apache/hadoop/fs/Path");
  jmethodID path_init = env->GetMethodID(path_class, "<init>", "(Ljava/lang/String;)V");
  jobject jpath = env->NewObject(path_class, path_init, env->NewStringUTF(path.c_str()));
  jclass fs_class = env->FindClass("org/apache/hadoop/fs/FileSystem");
  jmethodID get_status = env->GetMethodID(
      fs_class, "getFileStatus", "(Lorg/apache/hadoop/fs/Path;)Lorg/apache/hadoop/fs/FileStatus;");
  if (get_status != nullptr && !env->ExceptionCheck()) {
    env->CallObjectMethod(static_cast<jobject>(fs), get_status, jpath);
  }
  jthrowable error = env->ExceptionOccurred();
  std::string text;
  if (error != nullptr) {
    env->ExceptionClear();
    jclass throwable = env->FindClass("java/lang/Throwable");
    jmethodID get_cause = env->GetMethodID(throwable, "getCause", "()Ljava/lang/Throwable;");
    for (int depth = 0; depth < 16; ++depth) {  // the root cause says what went wrong
      auto cause = static_cast<jthrowable>(env->CallObjectMethod(error, get_cause));
      if (env->ExceptionCheck() || cause == nullptr || env->IsSameObject(cause, error)) break;
      error = cause;
    }
    env->ExceptionClear();
    text = JavaString(env, error, "java/lang/Throwable", "toString");
  }
  env->PopLocalFrame(nullptr);
  return text;
}

bool IsAuthenticationFailure(const std::string& java) {
  for (const char* sign : {"cannot authenticate", "GSSException", "SaslException",
                           "Kerberos", "KERBEROS"}) {
    if (java.find(sign) != std::string::npos) return true;
  }
  return false;
}

// The TF code and reason of a libhdfs call on `t` that failed with errno `err`.
std::pair<TF_Code, std::string> Explain(const Target& t, int err) {
  if (err != kInternal && err != 0) return {CodeOfErrno(err), strerror(err)};
  if (NamenodeRefuses(t.cluster)) return {TF_UNAVAILABLE, "the namenode is unreachable"};
  std::string java = JavaFailure(t.fs, t.path);
  std::string hint;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    hint = g_settings->kerberos_hint;
  }
  if (!hint.empty() && IsAuthenticationFailure(java)) {
    return {TF_PERMISSION_DENIED, hint + " [" + java + "]"};
  }
  return {TF_UNKNOWN, (java.empty() ? std::string(strerror(err)) : java) +
                          " (the Java stack trace is on stderr)"};
}

// -- file status -------------------------------------------------------------------------------

// What `path` is; on kError, `status` says why (the Java failure mapped, path named).
Kind StatPath(hdfsFS fs, const Target& t, const std::string& path, TF_Status* status,
              FileInfo* out = nullptr) {
  int err = 0;
  Kind kind = JavaStat(fs, path, &err, out);
  if (kind != Kind::kError) return kind;
  if (err == EACCES || err == ENOTDIR) {
    // HDFS refuses "file/child" with AccessControlException: look for a file ancestor
    for (std::string p = Parent(path); p != "/"; p = Parent(p)) {
      int up_err = 0;
      Kind up = JavaStat(fs, p, &up_err, nullptr);
      if (up == Kind::kMissing || up == Kind::kError) continue;
      if (up == Kind::kFile) {
        Fail(status, TF_FAILED_PRECONDITION, t.cluster + p + " is a file, not a directory");
        return Kind::kError;
      }
      break;
    }
  }
  Target at = t;
  at.fs = fs, at.path = path;
  auto [code, reason] = Explain(at, err);
  Fail(status, code, "status of " + t.cluster + path + " failed: " + reason);
  return Kind::kError;
}

// Missing `path`: NOT_FOUND, unless an ancestor is a file (FAILED_PRECONDITION).
void FailMissing(hdfsFS fs, const Target& t, const std::string& path, TF_Status* status) {
  for (std::string p = Parent(path);; p = Parent(p)) {
    Kind kind = StatPath(fs, t, p, status);
    if (kind == Kind::kError) return;
    if (kind == Kind::kFile) {
      Fail(status, TF_FAILED_PRECONDITION, t.cluster + p + " is a file, not a directory");
      return;
    }
    if (kind == Kind::kDirectory || p == "/") break;
  }
  Fail(status, TF_NOT_FOUND, t.cluster + path + " does not exist");
}

// The path's kind after a failed call; sets `status` for kMissing and kError.
Kind Lookup(hdfsFS fs, const Target& t, const std::string& path, TF_Status* status) {
  Kind kind = StatPath(fs, t, path, status);
  if (kind == Kind::kMissing) FailMissing(fs, t, path, status);
  return kind;
}

void FailErrno(const Target& t, const std::string& what, TF_Status* status) {
  auto [code, reason] = Explain(t, errno);
  Fail(status, code, what + " " + t.uri + " failed: " + reason);
}

// Resolve and connect; false (status set) on failure.
bool Open(const char* uri, Target* t, hdfsFS* fs, TF_Status* status) {
  if (!Resolve(uri, t, status)) return false;
  *fs = t->fs = Connect(*t, status);
  return *fs != nullptr;
}

// -- TFRecord check (hopsfs_tools.tensorflow.dataset) -------------------------------------------
// A URL ending in kRecordsMark is a TFRecord file read by TF's TFRecordDataset (through a
// BufferedInputStream, sequentially). The plugin checks each record as its bytes pass (the length
// CRC, the data CRC, as TF's RecordReader does) and hands TF the bytes of whole, good records
// only: a read that reaches a bad or cut-off record returns the bytes before it
// (OK and short, so TF comes back for more) and the read at that record fails with DATA_LOSS
// naming the file and the record's offset, which TF passes on as its error (TF's own "corrupted
// record at N" names no file). Nothing runs per record in tf.data; reads that do not follow each
// other (not TFRecordDataset's) are not checked.

constexpr char kRecordsMark[] = "#hopsfs-records";
constexpr char kDamaged[] = "the file is damaged: rewrite it from its source";
constexpr char kCutShort[] = "the file was cut short, e.g. by an interrupted copy: rewrite it";
constexpr char kMaybeCompressed[] =
    "if the file is compressed, pass compression='GZIP' or 'ZLIB'; otherwise it is damaged";

struct RecordCheck {
  bool on = false;
  int64_t checked = 0;       // bytes followed so far (reads must follow each other)
  int64_t start = 0;         // where the current record starts
  unsigned char frame[12];   // its length and the length's CRC, as far as read
  int frame_have = 0;
  uint64_t length = 0;       // its data length (once the frame is whole)
  uint64_t data_have = 0;    // its data bytes seen
  uint32_t crc = 0;          // their CRC so far
  unsigned char footer[4];   // its data CRC, as far as read
  int footer_have = 0;
  int64_t bad = -1;          // the offset of the first bad record (-1: none found)
  std::string problem;       // what is wrong with it
  std::string hint;          // what to do about it
};

// TFRecord's CRC of `n` bytes after `crc`, and its masking (TF's crc32c::Mask).
uint32_t Crc(uint32_t crc, const void* data, size_t n) {
  return crc32c_extend(crc, static_cast<const uint8_t*>(data), n);
}

uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

uint64_t Fixed(const unsigned char* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

// Mark the record at `c->start` bad; the bytes of `n` read at `offset` that TF may have.
int64_t Bad(RecordCheck* c, int64_t offset, int64_t n, const char* problem, const char* hint) {
  c->bad = c->start, c->problem = problem, c->hint = hint;
  return std::max<int64_t>(0, std::min<int64_t>(n, c->bad - offset));
}

// Check the `n` bytes read at `offset` (`eof`: the file ends after them); the number of them
// TF may have (all, unless a bad record starts among them).
int64_t Check(RecordCheck* c, const char* data, int64_t offset, int64_t n, bool eof) {
  if (offset != c->checked) c->on = false;  // not a sequential scan: TF checks alone
  if (!c->on) return n;
  int64_t pos = 0;
  while (pos < n) {
    if (c->frame_have < 12) {
      int take = static_cast<int>(std::min<int64_t>(12 - c->frame_have, n - pos));
      memcpy(c->frame + c->frame_have, data + pos, static_cast<size_t>(take));
      c->frame_have += take, pos += take;
      if (c->frame_have < 12) break;
      uint32_t stored = static_cast<uint32_t>(Fixed(c->frame + 8, 4));
      if (Unmask(stored) != Crc(0, c->frame, 8)) {
        return Bad(c, offset, n, "corrupt record length (CRC mismatch)",
                   c->start == 0 ? kMaybeCompressed : kDamaged);
      }
      c->length = Fixed(c->frame, 8), c->data_have = 0, c->crc = 0;
    } else if (c->data_have < c->length) {
      int64_t take = static_cast<int64_t>(
          std::min<uint64_t>(c->length - c->data_have, static_cast<uint64_t>(n - pos)));
      c->crc = Crc(c->crc, data + pos, static_cast<size_t>(take));
      c->data_have += static_cast<uint64_t>(take), pos += take;
    } else {
      int take = static_cast<int>(std::min<int64_t>(4 - c->footer_have, n - pos));
      memcpy(c->footer + c->footer_have, data + pos, static_cast<size_t>(take));
      c->footer_have += take, pos += take;
      if (c->footer_have < 4) break;
      if (Unmask(static_cast<uint32_t>(Fixed(c->footer, 4))) != c->crc) {
        return Bad(c, offset, n, "corrupt record data (CRC mismatch)", kDamaged);
      }
      c->start = offset + pos, c->frame_have = 0, c->footer_have = 0;
    }
  }
  c->checked = offset + n;
  if (eof && c->start < c->checked) {  // the file ends inside a record
    return Bad(c, offset, n, "truncated record", kCutShort);
  }
  return n;
}

// DATA_LOSS for the bad record `c` found in `t`, worded as hopsfs_tools' TFRecordError.
int64_t FailRecord(const Target& t, const RecordCheck& c, TF_Status* status) {
  Fail(status, TF_DATA_LOSS,
       c.problem + " in TFRecord file " + t.uri + " at byte offset " + std::to_string(c.bad) +
           " (" + c.hint + ")");
  return 0;
}

// -- random access files -----------------------------------------------------------------------

struct ReadFile {
  hdfsFS fs;
  hdfsFile file;
  Target target;
  std::mutex mutex;      // one stream: reads take turns (TF reads a file from one thread)
  int64_t position = 0;  // where the stream is; a read elsewhere seeks first
  RecordCheck records;   // on: a TFRecord file read through kRecordsMark
};

void RandomAccessCleanup(TF_RandomAccessFile* file) {
  auto* f = static_cast<ReadFile*>(file->plugin_file);
  hdfsCloseFile(f->fs, f->file);
  delete f;
}

// Stream reads (hdfsRead), not positional ones: DFSInputStream keeps one block reader for a
// sequential scan (a pread sets up a new one per call), and libhdfs reads into TF's buffer
// directly (ByteBuffer read, no Java array in between) when the stream supports it.
int64_t Read(const TF_RandomAccessFile* file, uint64_t offset, size_t n, char* buffer,
             TF_Status* status) {
  auto* f = static_cast<ReadFile*>(file->plugin_file);
  std::lock_guard<std::mutex> lock(f->mutex);
  RecordCheck& records = f->records;
  if (records.bad >= 0 && static_cast<int64_t>(offset) >= records.bad) {
    return FailRecord(f->target, records, status);
  }
  if (f->position != static_cast<int64_t>(offset)) {
    errno = 0;
    if (hdfsSeek(f->fs, f->file, static_cast<int64_t>(offset)) != 0) {
      // a seek past the end fails: report it as the end of the file
      Fail(status, TF_OUT_OF_RANGE, "read past the end of " + f->target.uri);
      f->position = -1;
      return 0;
    }
    f->position = static_cast<int64_t>(offset);
  }
  size_t done = 0;
  while (done < n) {
    int32_t want = static_cast<int32_t>(std::min<size_t>(n - done, kMaxCall));
    errno = 0;
    int32_t got = hdfsRead(f->fs, f->file, buffer + done, want);
    if (got < 0) {
      f->position = -1;
      FailErrno(f->target, "read at offset " + std::to_string(offset + done) + " of", status);
      return -1;
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
    f->position += got;
  }
  size_t kept = done;
  if (records.on || records.bad >= 0) {
    int64_t at = static_cast<int64_t>(offset);
    kept = static_cast<size_t>(Check(&records, buffer, at, static_cast<int64_t>(done), done < n));
    if (records.bad >= 0) kept = std::min<size_t>(kept, std::max<int64_t>(0, records.bad - at));
    if (kept == 0 && records.bad >= 0) return FailRecord(f->target, records, status);
    if (kept < done) {  // the bytes before a bad record: TF comes back for it
      TF_SetStatus(status, TF_OK, "");
      return static_cast<int64_t>(kept);
    }
  }
  if (done < n) {
    Fail(status, TF_OUT_OF_RANGE, "read past the end of " + f->target.uri);
  } else {
    TF_SetStatus(status, TF_OK, "");
  }
  return static_cast<int64_t>(done);
}

// -- writable files ----------------------------------------------------------------------------

struct WriteFile {
  hdfsFS fs;
  hdfsFile file;
  Target target;
  int64_t position;
};

void WritableCleanup(TF_WritableFile* file) {
  auto* f = static_cast<WriteFile*>(file->plugin_file);
  if (f->file != nullptr) hdfsCloseFile(f->fs, f->file);
  delete f;
}

void Append(const TF_WritableFile* file, const char* buffer, size_t n, TF_Status* status) {
  auto* f = static_cast<WriteFile*>(file->plugin_file);
  size_t done = 0;
  while (done < n) {
    int32_t want = static_cast<int32_t>(std::min<size_t>(n - done, kMaxCall));
    errno = 0;
    int32_t wrote = hdfsWrite(f->fs, f->file, buffer + done, want);
    if (wrote < 0) {
      FailErrno(f->target, "write to", status);
      return;
    }
    done += static_cast<size_t>(wrote);
    f->position += wrote;
  }
  TF_SetStatus(status, TF_OK, "");
}

int64_t Tell(const TF_WritableFile* file, TF_Status* status) {
  TF_SetStatus(status, TF_OK, "");
  return static_cast<WriteFile*>(file->plugin_file)->position;
}

// Flush: hflush (readers, e.g. TensorBoard, see the data); Sync: hsync (on the DataNodes' disks).
void Flush(const TF_WritableFile* file, TF_Status* status) {
  auto* f = static_cast<WriteFile*>(file->plugin_file);
  errno = 0;
  if (hdfsHFlush(f->fs, f->file) != 0) return FailErrno(f->target, "hflush of", status);
  TF_SetStatus(status, TF_OK, "");
}

void Sync(const TF_WritableFile* file, TF_Status* status) {
  auto* f = static_cast<WriteFile*>(file->plugin_file);
  errno = 0;
  if (hdfsHSync(f->fs, f->file) != 0) return FailErrno(f->target, "hsync of", status);
  TF_SetStatus(status, TF_OK, "");
}

void Close(const TF_WritableFile* file, TF_Status* status) {
  auto* f = static_cast<WriteFile*>(file->plugin_file);
  errno = 0;
  int rc = hdfsCloseFile(f->fs, f->file);
  f->file = nullptr;
  if (rc != 0) return FailErrno(f->target, "close of", status);
  TF_SetStatus(status, TF_OK, "");
}

// -- filesystem operations ---------------------------------------------------------------------

void Init(TF_Filesystem* filesystem, TF_Status* status) {
  filesystem->plugin_filesystem = nullptr;
  TF_SetStatus(status, TF_OK, "");
}

void Cleanup(TF_Filesystem* filesystem) {}

void NewRandomAccessFile(const TF_Filesystem*, const char* marked, TF_RandomAccessFile* file,
                         TF_Status* status) {
  std::string uri = marked;
  size_t mark = uri.rfind(kRecordsMark);
  bool records = mark != std::string::npos && mark + sizeof(kRecordsMark) - 1 == uri.size();
  if (records) uri.resize(mark);
  Target t;
  hdfsFS fs;
  if (!Open(uri.c_str(), &t, &fs, status)) return;
  errno = 0;
  hdfsFile handle = hdfsOpenFile(fs, t.path.c_str(), O_RDONLY, 0, 0, 0);
  if (handle == nullptr) {  // explain: missing, a directory, a file on the way, or the errno
    int err = errno;
    Kind kind = Lookup(fs, t, t.path, status);
    if (kind == Kind::kDirectory) Fail(status, TF_FAILED_PRECONDITION, t.uri + " is a directory");
    if (kind != Kind::kFile) return;
    errno = err;
    return FailErrno(t, "open of", status);
  }
  auto* opened = new ReadFile;
  opened->fs = fs, opened->file = handle, opened->target = t;
  opened->records.on = records;
  file->plugin_file = opened;
  TF_SetStatus(status, TF_OK, "");
}

// Why creating or appending to `t` failed: it is a directory, an ancestor is a file (Hadoop's
// ParentNotDirectoryException), or the Java failure (errno as the failed call left it).
void FailWrite(hdfsFS fs, const Target& t, const std::string& what, TF_Status* status) {
  int err = errno;
  for (std::string p = t.path;; p = Parent(p)) {
    int ignored = 0;
    Kind kind = JavaStat(fs, p, &ignored, nullptr);
    if (kind == Kind::kDirectory && p == t.path) {
      return Fail(status, TF_FAILED_PRECONDITION, t.uri + " is a directory");
    }
    if (kind == Kind::kFile && p != t.path) {
      return Fail(status, TF_FAILED_PRECONDITION, t.cluster + p + " is a file, not a directory");
    }
    if (kind == Kind::kDirectory || kind == Kind::kFile || p == "/") break;
  }
  errno = err;
  FailErrno(t, what, status);
}

// A new file is created with its missing parents (Hadoop's create, as TF <= 2.5's HDFS
// filesystem and tensorflow-io's did through libhdfs's hdfsOpenFile(O_WRONLY)); TF's modular
// filesystem tests want NOT_FOUND there instead (README: TensorFlow). No lookup beforehand:
// a failure is explained afterwards (FailWrite). Appending asks for the file's size first.
void OpenForWriting(const char* uri, TF_WritableFile* file, bool append, TF_Status* status) {
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return;
  FileInfo info;
  bool appending = false;
  if (append) {
    Kind kind = StatPath(fs, t, t.path, status, &info);
    if (kind == Kind::kError) return;
    if (kind == Kind::kDirectory) return Fail(status, TF_FAILED_PRECONDITION, t.uri + " is a directory");
    appending = kind == Kind::kFile;  // else created
  }
  errno = 0;
  hdfsFile handle =
      hdfsOpenFile(fs, t.path.c_str(), appending ? (O_WRONLY | O_APPEND) : O_WRONLY, 0, 0, 0);
  if (handle == nullptr) return FailWrite(fs, t, appending ? "append to" : "create of", status);
  file->plugin_file = new WriteFile{fs, handle, t, appending ? info.size : 0};
  TF_SetStatus(status, TF_OK, "");
}

void NewWritableFile(const TF_Filesystem*, const char* uri, TF_WritableFile* file,
                     TF_Status* status) {
  OpenForWriting(uri, file, false, status);
}

void NewAppendableFile(const TF_Filesystem*, const char* uri, TF_WritableFile* file,
                       TF_Status* status) {
  OpenForWriting(uri, file, true, status);
}

void PathExists(const TF_Filesystem*, const char* uri, TF_Status* status) {
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return;
  Kind kind = Lookup(fs, t, t.path, status);
  if (kind == Kind::kFile || kind == Kind::kDirectory) TF_SetStatus(status, TF_OK, "");
}

// One lookup (TF's fallback, FileExists then Stat, makes two; tf.io.gfile.listdir asks first).
// TF's ModularFileSystem reads only the status: a file is FAILED_PRECONDITION.
bool IsDirectory(const TF_Filesystem*, const char* uri, TF_Status* status) {
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return false;
  Kind kind = Lookup(fs, t, t.path, status);
  if (kind == Kind::kFile) Fail(status, TF_FAILED_PRECONDITION, t.uri + " is not a directory");
  if (kind != Kind::kDirectory) return false;
  TF_SetStatus(status, TF_OK, "");
  return true;
}

void Stat(const TF_Filesystem*, const char* uri, TF_FileStatistics* stats, TF_Status* status) {
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return;
  FileInfo info;
  Kind kind = StatPath(fs, t, t.path, status, &info);
  if (kind == Kind::kMissing) FailMissing(fs, t, t.path, status);
  if (kind != Kind::kFile && kind != Kind::kDirectory) return;
  stats->length = kind == Kind::kFile ? info.size : 0;
  stats->mtime_nsec = info.mtime_ms * 1000000LL;
  stats->is_directory = kind == Kind::kDirectory;
  TF_SetStatus(status, TF_OK, "");
}

int64_t GetFileSize(const TF_Filesystem* filesystem, const char* uri, TF_Status* status) {
  TF_FileStatistics stats;
  Stat(filesystem, uri, &stats, status);
  if (TF_GetCode(status) != TF_OK) return -1;
  if (stats.is_directory) {
    Fail(status, TF_FAILED_PRECONDITION, std::string(uri) + " is a directory");
    return -1;
  }
  return stats.length;
}

void* Allocate(size_t size) { return malloc(size); }

// FileSystem.listStatus through JNI, reading only each entry's name (libhdfs's
// hdfsListDirectory converts every field of every entry, a dozen Java calls each).
int GetChildren(const TF_Filesystem*, const char* uri, char*** entries, TF_Status* status) {
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return -1;
  JNIEnv* env = AttachedEnv();
  const Java* java = env == nullptr ? nullptr : JavaClasses(env);
  if (java == nullptr) {
    Fail(status, TF_INTERNAL, "no Java VM to list " + t.uri);
    return -1;
  }
  env->PushLocalFrame(8);
  jobject jpath = env->NewObject(java->path, java->path_init, env->NewStringUTF(t.path.c_str()));
  auto list = env->ExceptionCheck() ? nullptr
                                    : static_cast<jobjectArray>(env->CallObjectMethod(
                                          static_cast<jobject>(fs), java->list_status, jpath));
  if (jthrowable error = env->ExceptionOccurred()) {  // explain: missing, a file on the way, ...
    env->ExceptionClear();
    int err = ErrnoOf(env, *java, error);
    env->PopLocalFrame(nullptr);
    if (Lookup(fs, t, t.path, status) == Kind::kDirectory) {
      errno = err;
      FailErrno(t, "listing of", status);
    }
    return -1;
  }
  jsize count = list == nullptr ? 0 : env->GetArrayLength(list);
  std::vector<std::string> names;
  bool only_file = false;
  for (jsize i = 0; i < count; ++i) {
    env->PushLocalFrame(4);
    jobject entry = env->GetObjectArrayElement(list, i);
    auto name = static_cast<jstring>(
        env->CallObjectMethod(env->CallObjectMethod(entry, java->get_path), java->name));
    const char* chars = env->GetStringUTFChars(name, nullptr);
    names.emplace_back(chars);
    env->ReleaseStringUTFChars(name, chars);
    only_file = count == 1 && !env->CallBooleanMethod(entry, java->is_directory);
    env->PopLocalFrame(nullptr);
  }
  env->PopLocalFrame(nullptr);
  // HDFS lists a file as itself: one file entry named like the path, and the path a file
  if (only_file && names[0] == t.path.substr(t.path.rfind('/') + 1) &&
      StatPath(fs, t, t.path, status) == Kind::kFile) {
    Fail(status, TF_FAILED_PRECONDITION, t.uri + " is a file, not a directory");
    return -1;
  }
  *entries = static_cast<char**>(Allocate(sizeof(char*) * std::max<size_t>(names.size(), 1)));
  for (size_t i = 0; i < names.size(); ++i) (*entries)[i] = strdup(names[i].c_str());
  TF_SetStatus(status, TF_OK, "");
  return static_cast<int>(names.size());
}

void CreateDir(const TF_Filesystem*, const char* uri, TF_Status* status) {
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return;
  Kind kind = StatPath(fs, t, t.path, status);
  if (kind == Kind::kError) return;
  if (kind != Kind::kMissing) return Fail(status, TF_ALREADY_EXISTS, t.uri + " already exists");
  Kind parent = Lookup(fs, t, Parent(t.path), status);  // HDFS mkdirs would make parents
  if (parent == Kind::kFile)
    return Fail(status, TF_FAILED_PRECONDITION, t.cluster + Parent(t.path) + " is a file");
  if (parent != Kind::kDirectory) return;
  errno = 0;
  if (hdfsCreateDirectory(fs, t.path.c_str()) != 0) return FailErrno(t, "mkdir of", status);
  TF_SetStatus(status, TF_OK, "");
}

void RecursivelyCreateDir(const TF_Filesystem*, const char* uri, TF_Status* status) {
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return;
  errno = 0;
  if (hdfsCreateDirectory(fs, t.path.c_str()) == 0) return TF_SetStatus(status, TF_OK, "");
  int err = errno;
  Kind kind = StatPath(fs, t, t.path, status);  // explain: a file on the way, or the errno
  if (kind == Kind::kFile) return Fail(status, TF_FAILED_PRECONDITION, t.uri + " is a file");
  if (kind == Kind::kError) return;
  if (err == EEXIST || err == ENOTDIR) {
    return Fail(status, TF_FAILED_PRECONDITION, "a file is in the way of directory " + t.uri);
  }
  errno = err;
  FailErrno(t, "mkdirs of", status);
}

void DeletePath(const char* uri, bool want_dir, TF_Status* status) {
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return;
  Kind kind = Lookup(fs, t, t.path, status);
  if (kind == Kind::kError || kind == Kind::kMissing) return;
  if (want_dir && kind == Kind::kFile)
    return Fail(status, TF_FAILED_PRECONDITION, t.uri + " is a file, not a directory");
  if (!want_dir && kind == Kind::kDirectory)
    return Fail(status, TF_FAILED_PRECONDITION, t.uri + " is a directory");
  errno = 0;
  if (hdfsDelete(fs, t.path.c_str(), 0) == 0) return TF_SetStatus(status, TF_OK, "");
  int err = errno;
  int count = 0;
  hdfsFileInfo* list = want_dir ? hdfsListDirectory(fs, t.path.c_str(), &count) : nullptr;
  if (list != nullptr) hdfsFreeFileInfo(list, count);
  if (count > 0) return Fail(status, TF_FAILED_PRECONDITION, t.uri + " is not empty");
  errno = err;
  FailErrno(t, "delete of", status);
}

void DeleteFile(const TF_Filesystem*, const char* uri, TF_Status* status) {
  DeletePath(uri, false, status);
}

void DeleteDir(const TF_Filesystem*, const char* uri, TF_Status* status) {
  DeletePath(uri, true, status);
}

void DeleteRecursively(const TF_Filesystem*, const char* uri, uint64_t* undeleted_files,
                       uint64_t* undeleted_dirs, TF_Status* status) {
  *undeleted_files = 0;
  *undeleted_dirs = 1;
  Target t;
  hdfsFS fs;
  if (!Open(uri, &t, &fs, status)) return;
  Kind kind = Lookup(fs, t, t.path, status);
  if (kind == Kind::kError || kind == Kind::kMissing) return;
  errno = 0;
  if (hdfsDelete(fs, t.path.c_str(), 1) != 0) return FailErrno(t, "recursive delete of", status);
  *undeleted_dirs = 0;
  TF_SetStatus(status, TF_OK, "");
}

// -- rename: FileSystem.rename(src, dst, Options.Rename.OVERWRITE) through JNI ------------------
// libhdfs's hdfsRename never replaces dst; HDFS's rename2 does, atomically (no window where
// dst is missing). hdfsFS is libhdfs's global reference to the Java FileSystem.

void RenameOverwrite(hdfsFS fs, const Target& src, const Target& dst, TF_Status* status) {
  JNIEnv* env = AttachedEnv();
  if (env == nullptr) return Fail(status, TF_INTERNAL, "no Java VM to rename " + src.uri);
  env->PushLocalFrame(16);
  jclass path_class = env->FindClass("org/apache/hadoop/fs/Path");
  jmethodID path_init = env->GetMethodID(path_class, "<init>", "(Ljava/lang/String;)V");
  jobject jsrc = env->NewObject(path_class, path_init, env->NewStringUTF(src.path.c_str()));
  jobject jdst = env->NewObject(path_class, path_init, env->NewStringUTF(dst.path.c_str()));
  jclass option_class = env->FindClass("org/apache/hadoop/fs/Options$Rename");
  jfieldID overwrite_id =
      env->GetStaticFieldID(option_class, "OVERWRITE", "Lorg/apache/hadoop/fs/Options$Rename;");
  jobjectArray options =
      env->NewObjectArray(1, option_class, env->GetStaticObjectField(option_class, overwrite_id));
  jclass fs_class = env->FindClass("org/apache/hadoop/fs/FileSystem");
  jmethodID rename = env->GetMethodID(
      fs_class, "rename",
      "(Lorg/apache/hadoop/fs/Path;Lorg/apache/hadoop/fs/Path;[Lorg/apache/hadoop/fs/Options$Rename;)V");
  if (rename != nullptr && !env->ExceptionCheck()) {
    env->CallVoidMethod(static_cast<jobject>(fs), rename, jsrc, jdst, options);
  }
  jthrowable error = env->ExceptionOccurred();
  if (error == nullptr) {
    env->PopLocalFrame(nullptr);
    return TF_SetStatus(status, TF_OK, "");
  }
  env->ExceptionClear();
  std::string text = JavaString(env, error, "java/lang/Throwable", "toString");
  env->PopLocalFrame(nullptr);
  TF_Code code = TF_UNKNOWN;
  if (text.find("FileNotFoundException") != std::string::npos) code = TF_NOT_FOUND;
  else if (text.find("AccessControlException") != std::string::npos) code = TF_PERMISSION_DENIED;
  else if (text.find("FileAlreadyExistsException") != std::string::npos ||
           text.find("ParentNotDirectoryException") != std::string::npos ||
           text.find("non-empty directory") != std::string::npos) code = TF_FAILED_PRECONDITION;
  else if (text.find("ConnectException") != std::string::npos ||
           text.find("SafeModeException") != std::string::npos) code = TF_UNAVAILABLE;
  Fail(status, code, "rename of " + src.uri + " to " + dst.uri + " failed: " + text);
}

bool SameCluster(const Target& a, const Target& b, TF_Status* status) {
  if (a.cluster == b.cluster) return true;
  Fail(status, TF_UNIMPLEMENTED, "cannot rename or copy between clusters: " + a.uri + " -> " + b.uri);
  return false;
}

// Common checks of rename/copy: src is an existing file (or, for rename, a directory), dst is
// not a directory and its parent is one.
bool CheckTransfer(hdfsFS fs, const Target& src, const Target& dst, bool allow_dir,
                   TF_Status* status) {
  Kind kind = Lookup(fs, src, src.path, status);
  if (kind == Kind::kError || kind == Kind::kMissing) return false;
  Kind target = StatPath(fs, dst, dst.path, status);
  if (target == Kind::kError) return false;
  if (kind == Kind::kDirectory && (!allow_dir || target != Kind::kMissing)) {
    Fail(status, TF_FAILED_PRECONDITION, src.uri + " is a directory" +
                                             (allow_dir ? " and " + dst.uri + " exists" : ""));
    return false;
  }
  if (target == Kind::kDirectory) {
    Fail(status, TF_FAILED_PRECONDITION, dst.uri + " is a directory");
    return false;
  }
  if (target == Kind::kMissing) {
    Kind parent = Lookup(fs, dst, Parent(dst.path), status);
    if (parent == Kind::kFile) Fail(status, TF_FAILED_PRECONDITION, dst.cluster + Parent(dst.path) + " is a file");
    if (parent != Kind::kDirectory) return false;
  }
  return true;
}

void RenameFile(const TF_Filesystem*, const char* from, const char* to, TF_Status* status) {
  Target src, dst;
  hdfsFS fs;
  if (!Open(from, &src, &fs, status) || !Resolve(to, &dst, status) || !SameCluster(src, dst, status))
    return;
  if (!CheckTransfer(fs, src, dst, true, status)) return;
  RenameOverwrite(fs, src, dst, status);
}

void CopyFile(const TF_Filesystem*, const char* from, const char* to, TF_Status* status) {
  Target src, dst;
  hdfsFS fs;
  if (!Open(from, &src, &fs, status) || !Resolve(to, &dst, status) || !SameCluster(src, dst, status))
    return;
  if (!CheckTransfer(fs, src, dst, false, status)) return;
  // Copy next to dst, then rename over it: dst is either the old or the complete new file.
  Target temp = dst;
  temp.path = Parent(dst.path) + "/._COPYING_" + dst.path.substr(dst.path.rfind('/') + 1) + "." +
              std::to_string(getpid()) + "." + std::to_string(rand());
  temp.uri = temp.cluster + temp.path;
  errno = 0;
  if (hdfsCopy(fs, src.path.c_str(), fs, temp.path.c_str()) != 0) {
    hdfsDelete(fs, temp.path.c_str(), 0);
    return FailErrno(src, "copy of", status);
  }
  RenameOverwrite(fs, temp, dst, status);
  if (TF_GetCode(status) != TF_OK) hdfsDelete(fs, temp.path.c_str(), 0);
}

char* TranslateName(const TF_Filesystem*, const char* uri) { return strdup(uri); }

// -- registration ------------------------------------------------------------------------------

void ProvideFilesystemSupportFor(TF_FilesystemPluginOps* ops, const char* scheme) {
  TF_SetFilesystemVersionMetadata(ops);
  ops->scheme = strdup(scheme);

  ops->random_access_file_ops =
      static_cast<TF_RandomAccessFileOps*>(calloc(1, TF_RANDOM_ACCESS_FILE_OPS_SIZE));
  ops->random_access_file_ops->cleanup = RandomAccessCleanup;
  ops->random_access_file_ops->read = Read;

  ops->writable_file_ops = static_cast<TF_WritableFileOps*>(calloc(1, TF_WRITABLE_FILE_OPS_SIZE));
  ops->writable_file_ops->cleanup = WritableCleanup;
  ops->writable_file_ops->append = Append;
  ops->writable_file_ops->tell = Tell;
  ops->writable_file_ops->flush = Flush;
  ops->writable_file_ops->sync = Sync;
  ops->writable_file_ops->close = Close;

  ops->filesystem_ops = static_cast<TF_FilesystemOps*>(calloc(1, TF_FILESYSTEM_OPS_SIZE));
  TF_FilesystemOps* fs = ops->filesystem_ops;
  fs->init = Init;
  fs->cleanup = Cleanup;
  fs->new_random_access_file = NewRandomAccessFile;
  fs->new_writable_file = NewWritableFile;
  fs->new_appendable_file = NewAppendableFile;
  fs->create_dir = CreateDir;
  fs->recursively_create_dir = RecursivelyCreateDir;
  fs->delete_file = DeleteFile;
  fs->delete_dir = DeleteDir;
  fs->delete_recursively = DeleteRecursively;
  fs->rename_file = RenameFile;
  fs->copy_file = CopyFile;
  fs->path_exists = PathExists;
  fs->is_directory = IsDirectory;
  fs->stat = Stat;
  fs->get_file_size = GetFileSize;
  fs->translate_name = TranslateName;
  fs->get_children = GetChildren;
}

void Free(void* ptr) { free(ptr); }

// A settings value: backslash-n is a newline (Hadoop values may span lines, e.g. auth_to_local
// rules), two backslashes one backslash.
std::string Unescape(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      out += value[++i] == 'n' ? '\n' : value[i];
    } else {
      out += value[i];
    }
  }
  return out;
}
}  // namespace

// Settings as "key=value" lines (values escaped: Unescape): default_fs, no_default, user,
// ticket_cache, kerberos_hint, project_root, no_project, classpath, jvm_option (repeatable),
// conf.<hadoop property>.
extern "C" __attribute__((visibility("default"))) int hopsfs_tf_configure(const char* text) {
  Settings settings;
  settings.configured = true;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = Unescape(line.substr(eq + 1));
    if (key == "default_fs") settings.default_fs = value;
    else if (key == "user") settings.user = value;
    else if (key == "ticket_cache") settings.ticket_cache = value;
    else if (key == "project_root") settings.project_root = value;
    else if (key == "no_project") settings.no_project = value;
    else if (key == "kerberos_hint") settings.kerberos_hint = value;
    else if (key == "no_default") settings.no_default = value;
    else if (key == "classpath") settings.classpath = value;
    else if (key == "jvm_option") settings.jvm_options.push_back(value);
    else if (key.rfind("conf.", 0) == 0) settings.conf.emplace_back(key.substr(5), value);
  }
  auto configured = std::make_shared<const Settings>(std::move(settings));
  std::lock_guard<std::mutex> lock(g_mutex);
  g_settings = std::move(configured);
  return 0;
}

extern "C" __attribute__((visibility("default"))) void TF_InitPlugin(TF_FilesystemPluginInfo* info) {
  info->plugin_memory_allocate = Allocate;
  info->plugin_memory_free = Free;
  const char* schemes[] = {"hdfs", "viewfs", "hopsfs"};
  info->num_schemes = 3;
  info->ops = static_cast<TF_FilesystemPluginOps*>(
      Allocate(info->num_schemes * sizeof(TF_FilesystemPluginOps)));
  for (size_t i = 0; i < info->num_schemes; ++i) {
    memset(&info->ops[i], 0, sizeof(TF_FilesystemPluginOps));
    ProvideFilesystemSupportFor(&info->ops[i], schemes[i]);
  }
}
