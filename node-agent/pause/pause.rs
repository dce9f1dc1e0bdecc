//! The pause program: PID 1 of every pod sandbox. It holds the pod's network and IPC
//! namespaces for the pod's containers and does nothing else until SIGINT or SIGTERM (what
//! `docker stop` sends), then exits 0 at once. As PID 1 it gets no default signal handling,
//! so it blocks both signals and waits for them synchronously.
//!
//! No libc and no standard library: raw Linux system calls, so the binary is static, a few
//! kilobytes, and needs nothing else in its image. Built by the node agent's build script.

#![no_std]
#![no_main]

use core::arch::asm;

const SIGINT: u64 = 2;
const SIGTERM: u64 = 15;
const SIG_BLOCK: u64 = 0;
/// The kernel's signal set is 64 bits wide.
const SIGSET_SIZE: u64 = 8;

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const RT_SIGPROCMASK: u64 = 14;
    pub const RT_SIGTIMEDWAIT: u64 = 128;
    pub const EXIT_GROUP: u64 = 231;
}

#[cfg(target_arch = "aarch64")]
mod nr {
    pub const RT_SIGPROCMASK: u64 = 135;
    pub const RT_SIGTIMEDWAIT: u64 = 137;
    pub const EXIT_GROUP: u64 = 94;
}

/// A system call with up to four arguments; returns the kernel's answer (negative errno on
/// failure).
#[cfg(target_arch = "x86_64")]
unsafe fn syscall4(number: u64, a: u64, b: u64, c: u64, d: u64) -> i64 {
    let answer: i64;
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") number as i64 => answer,
            in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    answer
}

#[cfg(target_arch = "aarch64")]
unsafe fn syscall4(number: u64, a: u64, b: u64, c: u64, d: u64) -> i64 {
    let answer: i64;
    unsafe {
        asm!(
            "svc 0",
            in("x8") number,
            inlateout("x0") a as i64 => answer,
            in("x1") b, in("x2") c, in("x3") d,
            options(nostack),
        );
    }
    answer
}

fn exit(code: u64) -> ! {
    loop {
        // exit_group does not return; the loop only convinces the compiler.
        unsafe { syscall4(nr::EXIT_GROUP, code, 0, 0, 0) };
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let set: u64 = (1 << (SIGINT - 1)) | (1 << (SIGTERM - 1));
    let address = &set as *const u64 as u64;
    if unsafe { syscall4(nr::RT_SIGPROCMASK, SIG_BLOCK, address, 0, SIGSET_SIZE) } < 0 {
        exit(1);
    }
    // Waits without a timeout; an interrupted wait (EINTR) just waits again.
    while unsafe { syscall4(nr::RT_SIGTIMEDWAIT, address, 0, 0, SIGSET_SIZE) } < 0 {}
    exit(0)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(2)
}
