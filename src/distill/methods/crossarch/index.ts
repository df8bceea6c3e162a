// Cross-architecture distillation methods (docs/crossarch.md).
import './coadvise';
import './deit';
import './cskd';
import './ofa';
import './tas';
