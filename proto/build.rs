//! Compiles the gRPC contract with `protox` (pure Rust; no `protoc` on the build machines).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/mdm/v1/common.proto",
        "proto/mdm/v1/enroll.proto",
        "proto/mdm/v1/command.proto",
        "proto/mdm/v1/push.proto",
        "proto/mdm/v1/events.proto",
        "proto/mdm/v1/diagnostics.proto",
        "proto/mdm/v1/declarative.proto",
    ];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["proto"])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
