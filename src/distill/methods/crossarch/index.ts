// Cross-architecture distillation methods (methods.md Part I).
import './coadvise';
import './deit';
import './cskd';
import './ofa';
