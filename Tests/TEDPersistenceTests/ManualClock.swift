import TEDTestSupport

/// The manual clock shared by the test targets (`Tests/TEDTestSupport`), under the name this target's tests use.
typealias ManualClock = TEDTestSupport.ManualClock
