/* care.h — keeping account customers (docs/customers.md): the modules
 * beside contacts, and what other modules call of them.
 *   need.c      NEED ADD/RESULT/DONE/GET/LIST: a customer's needs, routed
 *               by kind and confirmed in writing */
#ifndef PD_CARE_H
#define PD_CARE_H

#include "daemon.h"

#endif
