import Hummingbird
import ArgumentParser
import ServiceLifecycle
import Prometheus
import TEDStore
print("ted")
