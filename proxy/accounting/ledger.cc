#include "proxy/accounting/ledger.h"
