import CLibMongoC
import CSQLite
