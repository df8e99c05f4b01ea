// Copyright 2026 The nalloc Authors. SPDX-License-Identifier: MIT

package jemalloc

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/nalloc/nalloc/internal/native"
)

// Value is the set of Go types that mallctl values are read and written
// as, each matching a C type by size (mallctl checks nothing else):
//
//	bool     bool            config.stats, opt.retain, thread.tcache.enabled
//	uint32   unsigned        arenas.narenas, arenas.create, thread.arena
//	uint64   uint64_t/size_t epoch, stats.allocated, arenas.page
//	uintptr  size_t          the same, as a Go size
//	int64    ssize_t         opt.dirty_decay_ms, arena.<i>.dirty_decay_ms
//	string   const char *    version, opt.metadata_thp, arena.<i>.dss
//
// jemalloc(3), section MALLCTL NAMESPACE, gives each name's type.
type Value interface {
	bool | uint32 | uint64 | uintptr | int64 | string
}

// The mallctl errors. A *MallctlError wraps one of them and the errno
// (syscall.ENOENT, EINVAL, EPERM, ...), and says what to do.
var (
	// ErrUnknownMallctl: no such name (ENOENT), or an index in it (an
	// arena's) that does not exist.
	ErrUnknownMallctl = errors.New("jemalloc: unknown mallctl name")
	// ErrMallctlValue: the Go type does not have the size of the
	// mallctl's C type, or jemalloc refused the value written (EINVAL).
	ErrMallctlValue = errors.New("jemalloc: wrong mallctl value")
	// ErrMallctlAccess: the mallctl cannot be used this way (EPERM): a
	// write to a read-only name, a read of a write-only name or action,
	// or MallctlDo on a name that takes a value.
	ErrMallctlAccess = errors.New("jemalloc: mallctl does not allow this")
	// ErrMallctl: any other failure (EAGAIN, EFAULT, ...).
	ErrMallctl = errors.New("jemalloc: mallctl failed")
)

// MallctlError reports a failed mallctl.
type MallctlError struct {
	Name  string        // the mallctl name
	Op    string        // "read", "write" or "do"
	Type  string        // the Go type read or written; "" for do
	Errno syscall.Errno // what mallctl returned
	Hint  string        // what to do about it
}

func (e *MallctlError) Error() string {
	op := e.Op
	if e.Type != "" {
		op += " as " + e.Type
	}
	return fmt.Sprintf("jemalloc: mallctl %q (%s): %s: %s", e.Name, op, errnoName(e.Errno), e.Hint)
}

// errnoName gives the errnos mallctl returns by their C names, which the
// jemalloc(3) page uses, rather than by strerror's text ("no such file or
// directory" for an unknown name).
func errnoName(errno syscall.Errno) string {
	switch errno {
	case syscall.ENOENT:
		return "ENOENT"
	case syscall.EINVAL:
		return "EINVAL"
	case syscall.EPERM:
		return "EPERM"
	case syscall.EAGAIN:
		return "EAGAIN"
	case syscall.EFAULT:
		return "EFAULT"
	}
	return errno.Error()
}

// Unwrap returns the sentinel for the errno and the errno itself, so that
// both errors.Is(err, ErrUnknownMallctl) and errors.Is(err,
// syscall.ENOENT) hold.
func (e *MallctlError) Unwrap() []error {
	var sentinel error
	switch e.Errno {
	case syscall.ENOENT:
		sentinel = ErrUnknownMallctl
	case syscall.EINVAL:
		sentinel = ErrMallctlValue
	case syscall.EPERM:
		sentinel = ErrMallctlAccess
	default:
		sentinel = ErrMallctl
	}
	return []error{sentinel, e.Errno}
}

// Mallctl reads the mallctl named name as a T, mallctl(name, &v, &len,
// NULL, 0), on the slow path. Names are jemalloc's, dot-separated,
// with numbers for indices: "stats.arenas.3.pactive". A name that is not
// there, a T whose size is not the C type's, and a name that cannot be
// read give a *MallctlError saying which and what to do.
//
// Figures under stats. are a snapshot taken at the last epoch write;
// Stats and Arena.Stats refresh it, and so does SetMallctl(a, "epoch",
// uint64(1)). Names under thread. act on the calling OS thread, which a
// goroutine may leave between two calls: wrap them in
// runtime.LockOSThread and UnlockOSThread.
func Mallctl[T Value](a *Allocator, name string) (T, error) {
	var v T
	cname, err := cString(name)
	if err != nil {
		return v, err
	}
	if err := checkKind[T](name, "read"); err != nil {
		return v, err
	}
	var rc uintptr
	switch p := any(&v).(type) {
	case *string:
		// A const char * that points into jemalloc's static data: copied.
		var s uintptr
		n := unsafe.Sizeof(s)
		rc = native.Slow5(a.mallctl, uintptr(unsafe.Pointer(&cname[0])),
			uintptr(unsafe.Pointer(&s)), uintptr(unsafe.Pointer(&n)), 0, 0)
		*p = native.GoString(s)
	default:
		// The Slow functions are //go:uintptrescapes: v, n and cname
		// are on the heap and alive until mallctl returns.
		n := unsafe.Sizeof(v)
		rc = native.Slow5(a.mallctl, uintptr(unsafe.Pointer(&cname[0])),
			uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&n)), 0, 0)
	}
	if rc := syscall.Errno(int32(rc)); rc != 0 {
		var zero T
		return zero, a.mallctlError(name, "read", typeName[T](), rc)
	}
	return v, nil
}

// SetMallctl writes v to the mallctl named name, mallctl(name, NULL,
// NULL, &v, sizeof v), on the slow path. Errors are as for Mallctl;
// a value that jemalloc refuses (out of range, an arena index that is not
// there) is ErrMallctlValue.
func SetMallctl[T Value](a *Allocator, name string, v T) error {
	cname, err := cString(name)
	if err != nil {
		return err
	}
	if err := checkKind[T](name, "write"); err != nil {
		return err
	}
	var rc uintptr
	switch s := any(v).(type) {
	case string:
		// jemalloc reads the string through a pointer that the newp slot
		// holds. Both go into C memory (from mallocx, freed below), so no
		// Go pointer is ever stored where C reads it.
		const slot = unsafe.Sizeof(uintptr(0))
		size := slot + uintptr(len(s)) + 1
		buf := native.Slow2(a.mallocx, size, 0)
		if buf == 0 {
			return fmt.Errorf("jemalloc: mallctl %q: no memory for the string", name)
		}
		b := unsafe.Slice((*byte)(native.Ptr(buf)), size)
		copy(b[slot:], s)
		b[size-1] = 0
		*(*uintptr)(native.Ptr(buf)) = buf + slot
		rc = native.Slow5(a.mallctl, uintptr(unsafe.Pointer(&cname[0])), 0, 0, buf, slot)
		native.Slow3(a.sdallocx, buf, size, 0)
	default:
		rc = native.Slow5(a.mallctl, uintptr(unsafe.Pointer(&cname[0])), 0, 0,
			uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v))
	}
	if rc := syscall.Errno(int32(rc)); rc != 0 {
		return a.mallctlError(name, "write", typeName[T](), rc)
	}
	return nil
}

// MallctlDo runs a mallctl that takes no value, an action such as
// "arena.<i>.purge" or "thread.tcache.flush": mallctl(name, NULL, NULL,
// NULL, 0), on the slow path. On a name that takes a value, jemalloc
// does nothing and reports success.
func (a *Allocator) MallctlDo(name string) error {
	cname, err := cString(name)
	if err != nil {
		return err
	}
	rc := native.Slow5(a.mallctl, uintptr(unsafe.Pointer(&cname[0])), 0, 0, 0, 0)
	if rc := syscall.Errno(int32(rc)); rc != 0 {
		return a.mallctlError(name, "do", "", rc)
	}
	return nil
}

// stringMallctls are the mallctls whose C type is const char * in
// jemalloc 5.3, "*" standing for an index. A string is read and written
// only for these: jemalloc checks a value's width, not its type, and a
// string is as wide as a size_t, so reading "arenas.page" as a string
// would take a number for an address and fault.
var stringMallctls = []string{
	"version", "config.malloc_conf", "opt.dss", "opt.metadata_thp", "opt.percpu_arena",
	"opt.thp", "opt.junk", "opt.zero_realloc", "opt.prof_prefix", "opt.stats_print_opts",
	"arena.*.dss", "stats.arenas.*.dss", "thread.prof.name", "prof.dump", "prof.prefix",
}

// checkKind refuses, before jemalloc sees them, the uses that its width
// check lets through and that would corrupt the process: a string for a
// mallctl that does not hold one, and any value written where jemalloc
// takes a pointer to C structures of its own: an extent hooks table
// (arena.<i>.extent_hooks, and the optional new value of arenas.create)
// and the experimental.* interfaces (hooks, utilization queries).
func checkKind[T Value](name, op string) error {
	pointer := strings.HasSuffix(name, ".extent_hooks") || strings.HasPrefix(name, "experimental.") ||
		(name == "arenas.create" && op == "write")
	if pointer {
		return &MallctlError{Name: name, Op: op, Type: typeName[T](), Errno: syscall.EINVAL,
			Hint: "its value is a pointer to C structures (extent hooks, hooks, queries), which nalloc does not manage"}
	}
	isString := typeName[T]() == "string"
	if isString == slices.ContainsFunc(stringMallctls, func(pattern string) bool { return matchIndexed(pattern, name) }) {
		return nil
	}
	hint := "its C type is not a string: read it as a number or bool"
	if !isString {
		hint = "its C type is const char *: use string"
	}
	return &MallctlError{Name: name, Op: op, Type: typeName[T](), Errno: syscall.EINVAL, Hint: hint}
}

// matchIndexed reports whether name matches pattern, where a "*" part
// matches any number.
func matchIndexed(pattern, name string) bool {
	pp, np := strings.Split(pattern, "."), strings.Split(name, ".")
	if len(pp) != len(np) {
		return false
	}
	for i := range pp {
		if pp[i] == "*" {
			if _, err := strconv.ParseUint(np[i], 10, 32); err != nil {
				return false
			}
		} else if pp[i] != np[i] {
			return false
		}
	}
	return true
}

// cString returns name as a NUL-terminated byte string.
func cString(name string) ([]byte, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return nil, &MallctlError{Name: name, Op: "parse", Errno: syscall.ENOENT,
			Hint: "a mallctl name is dot-separated words with no NUL byte, such as \"stats.allocated\""}
	}
	return append([]byte(name), 0), nil
}

func typeName[T Value]() string {
	switch any(*new(T)).(type) {
	case bool:
		return "bool"
	case uint32:
		return "uint32"
	case uint64:
		return "uint64"
	case uintptr:
		return "uintptr"
	case int64:
		return "int64"
	}
	return "string"
}

// mallctlError builds the error for a failed mallctl, with a hint. For
// EINVAL it asks jemalloc how wide the value is: a read with a buffer
// larger than the C type fails and sets the length to the type's size.
func (a *Allocator) mallctlError(name, op, typ string, errno syscall.Errno) error {
	e := &MallctlError{Name: name, Op: op, Type: typ, Errno: errno}
	switch errno {
	case syscall.ENOENT:
		e.Hint = "no such mallctl; the names are listed in jemalloc(3), MALLCTL NAMESPACE " +
			"(mallctls with an index, such as arena.<i>.purge, need an index that exists)"
		if !a.stats && strings.HasPrefix(name, "stats.") {
			e.Hint = "this jemalloc was built without statistics (config.stats is false)"
		}
	case syscall.EPERM:
		switch op {
		case "write":
			e.Hint = "the mallctl is read-only (opt.* are set only at start, through MALLOC_CONF)"
		case "read":
			e.Hint = "the mallctl cannot be read: it is write-only, or an action to run with MallctlDo"
		default:
			e.Hint = "the mallctl takes a value: read it with Mallctl or write it with SetMallctl"
		}
	case syscall.EINVAL:
		width, ok := a.valueWidth(name)
		switch {
		case !ok:
			e.Hint = "jemalloc refused the value"
		case op == "do":
			e.Hint = fmt.Sprintf("the mallctl takes a value (%s); read it with Mallctl or write it with SetMallctl", widthTypes(width))
		case width != sizeOf(typ):
			e.Hint = fmt.Sprintf("its C type is %d byte(s) wide: use %s", width, widthTypes(width))
		default:
			e.Hint = "jemalloc refused the value: out of range, or not valid for this mallctl"
		}
	case syscall.EAGAIN:
		e.Hint = "jemalloc could not allocate memory for the request"
	case syscall.EFAULT:
		e.Hint = "jemalloc could not carry it out: a value out of range for the setting " +
			"(a decay time below -1), or an arena still in use (arena.<i>.destroy while a " +
			"thread is bound to the arena with thread.arena)"
	default:
		e.Hint = "unexpected error from mallctl"
	}
	return e
}

// valueWidth returns the size of the mallctl's C type, by reading it into
// a buffer larger than any of them: jemalloc then copies what fits,
// returns EINVAL, and sets the length to the type's size.
func (a *Allocator) valueWidth(name string) (uintptr, bool) {
	cname, err := cString(name)
	if err != nil {
		return 0, false
	}
	var buf [4]uint64
	n := unsafe.Sizeof(buf)
	rc := native.Slow5(a.mallctl, uintptr(unsafe.Pointer(&cname[0])),
		uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&n)), 0, 0)
	// Some mallctls (arenas.create) check the length before they do
	// anything and then set it to 0, not to their type's size.
	if syscall.Errno(int32(rc)) != syscall.EINVAL || n == 0 || n >= unsafe.Sizeof(buf) {
		return 0, false
	}
	return n, true
}

func sizeOf(typ string) uintptr {
	switch typ {
	case "bool":
		return 1
	case "uint32":
		return 4
	}
	return 8
}

func widthTypes(width uintptr) string {
	switch width {
	case 1:
		return "bool"
	case 4:
		return "uint32 (C unsigned)"
	case 8:
		return "uint64 or uintptr (uint64_t, size_t), int64 (ssize_t) or string (const char *), as jemalloc(3) gives its type"
	}
	return fmt.Sprintf("a %d-byte type, which Mallctl does not support", width)
}

// Tune implements nalloc.Tuner with SetMallctl: value is written as the
// mallctl's C type requires, true and false as a bool, a number (with an
// optional unit: 4MiB, -1) as the integer width jemalloc says the mallctl
// has, anything else as a string. Only mallctls writable at run time can
// be set this way; opt.* are read at start from MALLOC_CONF.
func (a *Allocator) Tune(name, value string) error {
	if b, err := strconv.ParseBool(value); err == nil && value != "0" && value != "1" {
		return SetMallctl(a, name, b) // "1" and "0" are numbers
	}
	v, err := native.ParseInt(value)
	if err != nil {
		return SetMallctl(a, name, value)
	}
	err = SetMallctl(a, name, v) // 8 bytes: size_t, ssize_t, uint64_t
	if errors.Is(err, ErrMallctlValue) && v >= 0 && v <= math.MaxUint32 {
		if err4 := SetMallctl(a, name, uint32(v)); err4 == nil { // C unsigned
			return nil
		}
	}
	return err
}
