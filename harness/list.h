/*
 * list.h — `mmbench list`.
 */
#ifndef MMB_LIST_H
#define MMB_LIST_H

int mmb_list_main(int argc, char **argv);

#endif /* MMB_LIST_H */
