// Array<T>: an owning, move-only buffer in host or device memory. Views are cheap, non-owning and
// carry their memory space so that a kernel can refuse memory it cannot touch.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "shrink/context.hpp"

namespace shrink {

using index_t = std::int64_t;  // sizes and dimensions in the public API

namespace detail {
void* allocate_bytes(const Context* ctx, MemorySpace space, std::size_t bytes);
void free_bytes(MemorySpace space, void* ptr) noexcept;
// Copies between any two spaces; device copies run on ctx's stream and are complete on return.
void copy_bytes(const Context* ctx, void* dst, MemorySpace dst_space, const void* src,
                MemorySpace src_space, std::size_t bytes);
void zero_bytes(const Context* ctx, void* dst, MemorySpace space, std::size_t bytes);
}  // namespace detail

template <class T>
struct VectorView {
  T* data = nullptr;
  index_t size = 0;
  MemorySpace space = MemorySpace::Host;

  VectorView() = default;
  VectorView(T* d, index_t n, MemorySpace s = MemorySpace::Host) : data(d), size(n), space(s) {}
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
  VectorView(const VectorView<U>& other) : data(other.data), size(other.size), space(other.space) {}
  // Host vectors convert implicitly.
  template <class U, class = std::enable_if_t<std::is_same_v<U, std::remove_const_t<T>>>>
  VectorView(std::vector<U>& v) : data(v.data()), size(static_cast<index_t>(v.size())) {}
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
  VectorView(const std::vector<U>& v) : data(v.data()), size(static_cast<index_t>(v.size())) {}
  bool empty() const noexcept { return size == 0; }
};

template <class T>
class Array {
 public:
  Array() = default;
  // Host array of n value-initialised elements.
  explicit Array(std::size_t n) : Array(nullptr, n, MemorySpace::Host) {}
  // Array of n elements in `space`; zero-filled.
  Array(const Context* ctx, std::size_t n, MemorySpace space) : size_(n), space_(space) {
    static_assert(std::is_trivially_copyable_v<T>);
    data_ = static_cast<T*>(detail::allocate_bytes(ctx, space, n * sizeof(T)));
    detail::zero_bytes(ctx, data_, space, n * sizeof(T));
  }
  Array(const Context& ctx, std::size_t n, MemorySpace space) : Array(&ctx, n, space) {}
  static Array from_vector(const std::vector<T>& values) {
    Array a(values.size());
    if (!values.empty()) std::copy(values.begin(), values.end(), a.data_);
    return a;
  }

  ~Array() { reset(); }
  Array(Array&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), space_(o.space_) {}
  Array& operator=(Array&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      space_ = o.space_;
    }
    return *this;
  }
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;

  // Explicit copy into `space` (device copies use ctx's stream).
  Array copy_to(const Context& ctx, MemorySpace space) const {
    Array out(&ctx, size_, space);
    detail::copy_bytes(&ctx, out.data_, space, data_, space_, size_ * sizeof(T));
    return out;
  }
  std::vector<T> to_vector(const Context& ctx) const {
    std::vector<T> v(size_);
    detail::copy_bytes(&ctx, v.data(), MemorySpace::Host, data_, space_, size_ * sizeof(T));
    return v;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  MemorySpace space() const noexcept { return space_; }
  // Element access and spans are host-only (asserted by the caller's space check).
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<T> host_span() noexcept { return {data_, size_}; }
  std::span<const T> host_span() const noexcept { return {data_, size_}; }
  VectorView<T> view() noexcept { return {data_, static_cast<index_t>(size_), space_}; }
  VectorView<const T> view() const noexcept { return {data_, static_cast<index_t>(size_), space_}; }

 private:
  void reset() noexcept {
    if (data_) detail::free_bytes(space_, data_);
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
  MemorySpace space_ = MemorySpace::Host;
};

// dst = src, both in the context's memory space or either on the host (explicit transfer).
template <class T>
void copy(const Context& ctx, std::type_identity_t<VectorView<const T>> src, VectorView<T> dst);

}  // namespace shrink
