/* output_views.h — the views of output_views.c, chosen by the shape of a
 * reply's data (see human.h). Each returns false, having printed nothing,
 * when the data does not have its shape. */
#ifndef PD_CLIENT_OUTPUT_VIEWS_H
#define PD_CLIENT_OUTPUT_VIEWS_H

#include "human.h"

bool view_compensation(const struct human *h, const struct pd_value *data);
bool view_report(const struct human *h, const struct pd_value *data);
bool view_kpi(const struct human *h, const struct pd_value *data);

#endif
